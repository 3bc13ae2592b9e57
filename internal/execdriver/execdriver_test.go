package execdriver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/execdriver"
	"github.com/gitserver/gitserver/shim"
)

// python3 is Debian's interpreter, which the driver scripts' #! names.
const python3 = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python3); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %s is missing (apt-get install python3)", python3)
		}
		t.Skipf("%s is missing", python3)
	}
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func faulty(t *testing.T, timeout time.Duration, args ...string) *execdriver.Driver {
	t.Helper()
	d, err := execdriver.New(execdriver.Settings{
		Command: append([]string{safePath(t, "testdata/faulty.py")}, args...),
		Timeout: config.Duration(timeout),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var faultMode = map[drivertest.Fault]string{
	drivertest.Hang: "hang", drivertest.Garbage: "garbage", drivertest.Crash: "crash",
	drivertest.Oversize: "oversize", drivertest.Outside: "outside",
}

// TestContractPython runs the contract against the Python adapter serving
// contrib/python/examples/sqlite_driver.py, and the faults against
// testdata/faulty.py.
func TestContractPython(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	root, db := filepath.Join(dir, "repos"), filepath.Join(dir, "users.sqlite3")
	sqlite := abs(t, "../../contrib/python/examples/sqlite_driver.py")
	admin := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(python3, append([]string{sqlite, db}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("sqlite_driver.py %v: %v\n%s", args, err, out)
		}
	}
	admin("add-key", drivertest.User, drivertest.Alice().AuthorizedKey)
	for _, g := range drivertest.Grants {
		access := "read"
		if g.Write {
			access = "write"
		}
		admin("grant", g.User, g.Repo, access)
	}
	settings := execdriver.Settings{
		Command: []string{launcher(t), "--module", sqlite, "--", db, root},
		Timeout: config.Duration(execdriver.DefaultTimeout),
	}
	drivertest.Run(t, func(t *testing.T) shim.Driver {
		d, err := execdriver.New(settings)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}, drivertest.Fixture{
		Root: root,
		Faulty: func(t *testing.T, f drivertest.Fault) shim.Driver {
			return faulty(t, 500*time.Millisecond, faultMode[f])
		},
	})
}

// TestFailureSaysWhy checks the reason each failure gives the log.
func TestFailureSaysWhy(t *testing.T) {
	needPython(t)
	for _, tt := range []struct{ mode, want string }{
		{"hang", "no answer in time"},
		{"garbage", `malformed response: not a JSON object: "Traceback`},
		{"crash", "exit status 3; stderr: faulty: the database is on fire"},
		{"oversize", "a line longer than 1048576 bytes"},
		{"wrongid", "answer to request 2, want 1"},
		{"badversion", "driver speaks protocol version 99"},
		{"nohello", "handshake: read: the driver closed its end"},
	} {
		d := faulty(t, 500*time.Millisecond, tt.mode)
		start := time.Now()
		_, err := d.Authenticate(context.Background(), drivertest.Alice().Credentials)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Authenticate = %v, want an error containing %q", tt.mode, err, tt.want)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: took %v", tt.mode, took)
		}
		d.Close()
	}
}

type startRecord struct {
	PID int               `json:"pid"`
	Env map[string]string `json:"env"`
	Cwd string            `json:"cwd"`
}

func starts(t *testing.T, log string) []startRecord {
	t.Helper()
	f, err := os.Open(log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []startRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r startRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestOneProcessLazyMinimalEnv: nothing runs until the first operation;
// then one process serves them all, in "/", with PATH, HOME and LANG and
// nothing of gitserver's own environment; Close ends it, and a later
// operation starts a new one.
func TestOneProcessLazyMinimalEnv(t *testing.T) {
	needPython(t)
	t.Setenv("SSH_ORIGINAL_COMMAND", "git-upload-pack evil")
	t.Setenv("LD_PRELOAD", "/tmp/evil.so")
	log := filepath.Join(t.TempDir(), "starts")
	d := faulty(t, 5*time.Second, "good", log)
	if n := len(starts(t, log)); n != 0 {
		t.Fatalf("%d processes started before any operation", n)
	}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := d.Authenticate(ctx, drivertest.Alice().Credentials); err != nil {
			t.Fatal(err)
		}
		m, err := d.GetUserModel(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if dec, err := d.Authorize(ctx, m, shim.UploadPack, "team/app.git"); err != nil || !dec.Allow {
			t.Fatalf("Authorize = %+v, %v", dec, err)
		}
	}
	recs := starts(t, log)
	if len(recs) != 1 {
		t.Fatalf("%d processes for 9 operations, want 1", len(recs))
	}
	var keys []string
	for k := range recs[0].Env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"HOME", "LANG", "PATH"}) || recs[0].Env["LANG"] != "C.UTF-8" || recs[0].Env["PATH"] != "/usr/local/bin:/usr/bin:/bin" {
		t.Errorf("driver environment = %v, want only PATH, HOME, LANG=C.UTF-8", recs[0].Env)
	}
	if recs[0].Cwd != "/" {
		t.Errorf("driver runs in %q, want /", recs[0].Cwd)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := process(recs[0].PID); err == nil {
		t.Errorf("driver process %d still exists after Close", recs[0].PID)
	}
	if _, err := d.Authenticate(ctx, drivertest.Alice().Credentials); err != nil {
		t.Fatal(err)
	}
	if n := len(starts(t, log)); n != 2 {
		t.Errorf("%d starts after Close and one more operation, want 2", n)
	}
	d.Close()
}

// process reports whether pid exists (and is not a zombie we own).
func process(pid int) error {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return err
	}
	if f := strings.Fields(string(data)); len(f) > 2 && f[2] == "Z" {
		return errors.New("zombie")
	}
	return nil
}

// TestCloseKillsAStraggler: a driver that does not exit when its stdin
// closes is killed after the timeout.
func TestCloseKillsAStraggler(t *testing.T) {
	needPython(t)
	d := faulty(t, 300*time.Millisecond, "slowexit")
	if _, err := d.Authenticate(context.Background(), drivertest.Alice().Credentials); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := d.Close()
	if err == nil || !strings.Contains(err.Error(), "did not exit") {
		t.Errorf("Close = %v, want a kill after the timeout", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %v", took)
	}
}

// TestRequestCarriesPathAsSent: the driver gets the client's path and the
// offered key unchanged.
func TestRequestCarriesPathAsSent(t *testing.T) {
	needPython(t)
	d := faulty(t, 5*time.Second, "echo")
	defer d.Close()
	_, err := d.RepoPath(context.Background(), "/team/app")
	if err == nil || !strings.Contains(err.Error(), `"op": "repopath", "path": "/team/app"`) {
		t.Errorf("RepoPath error = %v, want the echoed request", err)
	}
}

func TestUnsafeCommands(t *testing.T) {
	// A directory others may write, made here: the test must not depend
	// on what TMPDIR's own mode is.
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(open, "driver")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	noexec := abs(t, "execdriver.go")
	for _, tt := range []struct {
		cmd  []string
		want string
	}{
		{nil, "command is empty"},
		{[]string{"driver.py"}, "is not an absolute path"},
		{[]string{"/nonexistent/driver"}, "no such file"},
		{[]string{noexec}, "is not an executable file"},
		{[]string{script}, "group or others can write it"},
	} {
		_, err := execdriver.New(execdriver.Settings{Command: tt.cmd, Timeout: config.Duration(time.Second)})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q) = %v, want an error containing %q", tt.cmd, err, tt.want)
		}
	}
	var ue *exe.UnsafeError
	_, err := execdriver.New(execdriver.Settings{Command: []string{script}, Timeout: config.Duration(time.Second)})
	if !errors.As(err, &ue) || ue.Path != script || ue.Where != open {
		t.Errorf("New(%s) = %v, want an *exe.UnsafeError naming the writable directory %s", script, err, open)
	}
}

// TestFactory: driver = "exec" reads [drivers.exec] strictly.
func TestFactory(t *testing.T) {
	faultyPath := safePath(t, "testdata/faulty.py")
	for _, tt := range []struct{ body, want string }{
		{"[drivers.exec]\ncommand = [\"" + faultyPath + "\", \"good\"]\ntimeout = \"2s\"\n", ""},
		{"[drivers.exec]\ncommand = [\"" + faultyPath + "\"]\ntimout = \"2s\"\n", `c.toml:4: unknown key "drivers.exec.timout"`},
		{"[drivers.exec]\ncommand = [\"" + faultyPath + "\"]\ntimeout = \"-1s\"\n", "timeout -1s must be positive"},
		{"", "command is empty"},
	} {
		cfg, err := config.Parse("c.toml", strings.NewReader("driver = \"exec\"\n"+tt.body))
		if err != nil {
			t.Fatal(err)
		}
		d, err := shim.OpenDriver("exec", shim.DriverConfig{Repos: "/srv/git", Settings: cfg.DriverSettings("exec")})
		if tt.want == "" {
			if err != nil {
				t.Errorf("OpenDriver(%q) = %v", tt.body, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenDriver(%q) = %v, %v, want an error containing %q", tt.body, d, err, tt.want)
		}
	}
}
