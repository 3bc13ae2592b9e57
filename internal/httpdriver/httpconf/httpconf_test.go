package httpconf_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/httpdriver/httpconf"
	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/shim"
)

// installHelper builds cmd/gitserver-http-driver into a fresh root-owned
// 0755 directory, where the exec driver accepts it, makes the factory run
// it, and returns its path. It is built without VCS stamping, like this
// test binary, so that the two have one build id.
func installHelper(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and the test is not running as root")
		}
		t.Skip("installing the helper where only root can write needs root")
	}
	built := filepath.Join(t.TempDir(), httpconf.HelperName)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", built, "../../../cmd/gitserver-http-driver")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := sshdtest.InstallBinary(t, built, httpconf.HelperName)
	httpconf.SetHelper(t, path)
	return path
}

// TestHelperRefusesOtherBuild: a gitserver-http-driver run with another
// build's id (an upgrade that replaced one file but not the other), or
// with none, refuses at once and says why.
func TestHelperRefusesOtherBuild(t *testing.T) {
	helper := installHelper(t)
	for _, tt := range []struct{ arg, want string }{
		{"--build-id=0123456789abcdef01234567", "come from different builds"},
		{"--url=https://example.invalid", "--build-id is missing"},
	} {
		cmd := exec.Command(helper, tt.arg, "--url=https://example.invalid")
		cmd.Stdin = strings.NewReader(`{"id":1,"op":"repopath","path":"/a"}` + "\n")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s %s = %v, %q; want a failure saying %q", helper, tt.arg, err, out, tt.want)
		}
	}
}

// TestHelperSetting: [drivers.http] helper names the program to run, by
// absolute path only.
func TestHelperSetting(t *testing.T) {
	helper := installHelper(t)
	httpconf.SetHelper(t, "/nonexistent/"+httpconf.HelperName)
	if _, err := open(t, fmt.Sprintf("url = \"https://example.invalid\"\nhelper = %q\n", helper)); err != nil {
		t.Errorf("helper = %q: %v", helper, err)
	}
	if _, err := open(t, "url = \"https://example.invalid\"\nhelper = \"gitserver-http-driver\"\n"); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("a relative helper = %v, want an error asking for an absolute path", err)
	}
	if _, err := open(t, "url = \"https://example.invalid\"\n"); !errors.Is(err, httpconf.ErrNoHelper) {
		t.Errorf("no helper beside gitserver = %v, want ErrNoHelper", err)
	}
}

// open opens driver = "http" as gitserver does, from a config file.
func open(t *testing.T, table string) (shim.Driver, error) {
	t.Helper()
	cfg, err := config.Parse("c.toml", strings.NewReader("driver = \"http\"\n[drivers.http]\n"+table))
	if err != nil {
		t.Fatal(err)
	}
	return shim.OpenDriver("http", shim.DriverConfig{Settings: cfg.DriverSettings("http")})
}

func table(srv drivertest.HTTPServer, timeout time.Duration) string {
	return fmt.Sprintf("url = %q\ntoken_file = %q\nca_file = %q\ntimeout = %q\n", srv.URL, srv.TokenFile, srv.CAFile, timeout)
}

func mustOpen(t *testing.T, table string) shim.Driver {
	t.Helper()
	d, err := open(t, table)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestContractThroughHelper runs the contract end to end: gitserver's
// factory, the exec driver, the gitserver-http-driver binary, TLS, and
// the application's API.
func TestContractThroughHelper(t *testing.T) {
	installHelper(t)
	root := filepath.Join(t.TempDir(), "repos")
	good := table(drivertest.ServeTLS(t, &drivertest.API{Root: root}), 2*time.Second)
	drivertest.Run(t, func(t *testing.T) shim.Driver { return mustOpen(t, good) }, drivertest.Fixture{
		Root: root,
		Faulty: func(t *testing.T, f drivertest.Fault) shim.Driver {
			srv := drivertest.ServeTLS(t, &drivertest.API{Root: root, Fault: f.String()})
			return mustOpen(t, table(srv, 500*time.Millisecond))
		},
	})
}

func TestHelperReportsBadSecrets(t *testing.T) {
	installHelper(t)
	srv := drivertest.ServeTLS(t, &drivertest.API{Root: t.TempDir()})
	os.WriteFile(srv.CAFile, []byte("not a certificate"), 0o644)
	d := mustOpen(t, table(srv, time.Second))
	_, err := d.Authenticate(t.Context(), drivertest.Alice().Credentials)
	if err == nil || !strings.Contains(err.Error(), "gitserver-http-driver: httpdriver: ca_file "+srv.CAFile+" holds no PEM certificate") {
		t.Errorf("Authenticate = %v, want the helper's reason", err)
	}
}

func TestMissingHelper(t *testing.T) {
	httpconf.SetHelper(t, "/nonexistent/"+httpconf.HelperName)
	_, err := open(t, "url = \"https://app.internal\"\n")
	if !errors.Is(err, httpconf.ErrNoHelper) || !strings.Contains(err.Error(), "/nonexistent/gitserver-http-driver does not exist") {
		t.Errorf("OpenDriver = %v, want ErrNoHelper naming the path", err)
	}
}

func TestFactoryChecks(t *testing.T) {
	httpconf.SetHelper(t, "/nonexistent/"+httpconf.HelperName)
	for _, tt := range []struct{ table, want string }{
		{"url = \"https://app.internal\"\ntoken = \"x\"\n", `c.toml:4: unknown key "drivers.http.token"`},
		{"", "url is empty"},
		{"url = \"http://app.internal\"\n", "use https"},
		{"url = \"https://app.internal\"\ntimeout = \"0s\"\n", "must be positive"},
		{"url = \"https://app.internal\"\ntoken_file = \"token\"\n", "absolute path"},
		{"url = \"https://app.internal\"\nca_file = \"ca.pem\"\n", "absolute path"},
	} {
		_, err := open(t, tt.table)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenDriver(%q) = %v, want an error containing %q", tt.table, err, tt.want)
		}
	}
}

func TestArgsRoundTrip(t *testing.T) {
	s := httpconf.Settings{URL: "https://app.internal/-x", CAFile: "/etc/ca.pem", Timeout: config.Duration(3 * time.Second)}
	args := s.Args()
	id := "--build-id=" + version.Get().BuildID()
	if want := []string{id, "--url=https://app.internal/-x", "--ca-file=/etc/ca.pem", "--timeout=3s"}; !slices.Equal(args, want) {
		t.Errorf("Args() = %q, want %q", args, want)
	}
	got, err := httpconf.ParseArgs(args, os.Stderr)
	if err != nil || got != s {
		t.Errorf("ParseArgs(%q) = %+v, %v, want %+v", args, got, err, s)
	}
	if _, err := httpconf.ParseArgs([]string{id, "--url=https://a", "extra"}, os.Stderr); err == nil {
		t.Error("ParseArgs accepted a positional argument")
	}
}
