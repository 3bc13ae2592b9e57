package execdriver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/execdriver"
	"github.com/gitserver/gitserver/shim"
)

// helperArg makes the test binary a driver program: run as
// "execdriver.test helperArg ROOT", it serves scenario{ROOT} with
// execdriver.Serve on its stdin and stdout.
const helperArg = "-gitserver-test-driver"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == helperArg {
		if err := execdriver.Serve(context.Background(), os.Stdin, os.Stdout, scenario{root: os.Args[2]}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// scenario is drivertest's scenario as a Go driver, its models Go values.
type scenario struct{ root string }

type model struct{ user string }

func (s scenario) Authenticate(_ context.Context, c shim.Credentials) (string, error) {
	if !bytes.Equal(c.Key, drivertest.Alice().Credentials.Key) {
		return "", shim.ErrUnknownKey
	}
	return drivertest.User, nil
}

func (s scenario) GetUserModel(_ context.Context, user string) (shim.UserModel, error) {
	if user != drivertest.User {
		return nil, shim.ErrUnknownUser
	}
	return &model{user}, nil
}

func (s scenario) Authorize(_ context.Context, m shim.UserModel, command, path string) (shim.Decision, error) {
	mm, ok := m.(*model)
	if !ok {
		return shim.Decision{}, fmt.Errorf("model is a %T", m)
	}
	name := strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	for _, g := range drivertest.Grants {
		if g.User == mm.user && g.Repo == name && (g.Write || command != shim.ReceivePack) {
			return shim.Decision{Allow: true, Rule: "grant " + g.Repo}, nil
		}
	}
	return shim.Decision{}, nil
}

func (s scenario) RepoPath(_ context.Context, path string) (string, error) {
	if strings.Contains(path, "fail") {
		return "", errors.New("the database is on fire")
	}
	return filepath.Join(s.root, strings.TrimSuffix(strings.Trim(path, "/"), ".git")+".git"), nil
}

// goDriver is the exec driver running this test binary as a Go driver
// program with root as the repos root.
func goDriver(t *testing.T, root string) *execdriver.Driver {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d, err := execdriver.New(execdriver.Settings{
		Command: []string{safePath(t, exe), helperArg, root},
		Timeout: config.Duration(5 * time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestContractGo runs the contract against execdriver.Serve in a
// separate process, through the exec driver: the two sides of the
// protocol agree.
func TestContractGo(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repos")
	drivertest.Run(t, func(t *testing.T) shim.Driver { return goDriver(t, root) }, drivertest.Fixture{Root: root})
}

// TestServeFailureMessage: a driver's error reaches gitserver's log.
func TestServeFailureMessage(t *testing.T) {
	d := goDriver(t, t.TempDir())
	defer d.Close()
	_, err := d.RepoPath(context.Background(), "fail/me")
	if err == nil || !strings.Contains(err.Error(), "driver answered failed: the database is on fire") {
		t.Errorf("RepoPath = %v, want the driver's error", err)
	}
}

const hello = `{"protocol":"gitserver-driver","versions":[1]}` + "\n"

// serve runs Serve on input and returns its output and error.
func serve(t *testing.T, input string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := execdriver.Serve(context.Background(), strings.NewReader(input), &out, scenario{root: "/srv/git"})
	return out.String(), err
}

func TestServe(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(drivertest.Alice().Credentials.Key)
	for _, tt := range []struct {
		name, in, out, err string
	}{
		{"no input", "", "", ""},
		{"hello only", hello, `{"protocol":"gitserver-driver","version":1}` + "\n", ""},
		{"login", hello +
			fmt.Sprintf(`{"id":1,"op":"authenticate","key":%q}`, key) + "\n" +
			`{"id":2,"op":"user_model","user":"alice"}` + "\n" +
			`{"id":3,"op":"authorize","model":{"handle":1},"command":"git-upload-pack","path":"team/app.git"}` + "\n" +
			`{"id":4,"op":"authorize","model":{"handle":1},"command":"git-receive-pack","path":"public/hello"}` + "\n" +
			`{"id":5,"op":"repopath","path":"/team/app"}` + "\n",
			`{"id":1,"user":"alice"}` + "\n" + `{"id":2,"model":{"handle":1}}` + "\n" +
				`{"id":3,"allow":true,"rule":"grant team/app"}` + "\n" + `{"id":4,"allow":false}` + "\n" +
				`{"id":5,"path":"/srv/git/team/app.git"}` + "\n", ""},
		{"unknown key", hello + `{"id":1,"op":"authenticate","key":"AAAA"}` + "\n", `{"id":1,"error":"unknown_key"}`, ""},
		{"unknown user", hello + `{"id":1,"op":"user_model","user":"bob"}` + "\n", `{"id":1,"error":"unknown_user"}`, ""},
		{"foreign model", hello + `{"id":1,"op":"authorize","model":{"user":"alice"},"command":"git-upload-pack","path":"x"}` + "\n",
			`{"id":1,"error":"failed","message":"authorize: model \"{\\\"user\\\":\\\"alice\\\"}\" is not a handle this process gave out"}`, ""},
		{"unknown op", hello + `{"id":7,"op":"delete_everything"}` + "\n", `{"id":7,"error":"failed","message":"unknown op \"delete_everything\""}`, ""},
		{"driver error", hello + `{"id":1,"op":"repopath","path":"fail"}` + "\n", `{"id":1,"error":"failed","message":"the database is on fire"}`, ""},
		{"wrong protocol", `{"protocol":"smtp","versions":[1]}` + "\n", "", `handshake: want {"protocol":"gitserver-driver"`},
		{"wrong version", `{"protocol":"gitserver-driver","versions":[2]}` + "\n", "", "offers protocol versions [2], this driver speaks 1"},
		{"not JSON", hello + "hello\n", "", "request is not a JSON object"},
		{"no newline", hello + `{"id":1}`, "", "last line has no newline"},
		{"oversize", hello + strings.Repeat("a", 2<<20) + "\n", "", "a line longer than 1048576 bytes"},
	} {
		out, err := serve(t, tt.in)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: Serve = %v, want error %q", tt.name, err, tt.err)
		}
		if !strings.Contains(out, tt.out) {
			t.Errorf("%s: Serve wrote\n%s\nwant it to contain\n%s", tt.name, out, tt.out)
		}
	}
}

// TestServeForgetsOldModels: past MaxModels, the oldest handle fails.
func TestServeForgetsOldModels(t *testing.T) {
	var in strings.Builder
	in.WriteString(hello)
	for i := 1; i <= execdriver.MaxModels+1; i++ {
		fmt.Fprintf(&in, `{"id":%d,"op":"user_model","user":"alice"}`+"\n", i)
	}
	in.WriteString(`{"id":9998,"op":"authorize","model":{"handle":1},"command":"git-upload-pack","path":"team/app"}` + "\n")
	in.WriteString(`{"id":9999,"op":"authorize","model":{"handle":2},"command":"git-upload-pack","path":"team/app"}` + "\n")
	out, err := serve(t, in.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `{"id":9998,"error":"failed"`) || !strings.Contains(out, `{"id":9999,"allow":true`) {
		t.Errorf("Serve kept handle 1 or forgot handle 2 after %d models:\n%s", execdriver.MaxModels+1, out[len(out)-300:])
	}
}
