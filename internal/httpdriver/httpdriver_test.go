package httpdriver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/httpdriver"
	"github.com/gitserver/gitserver/shim"
)

type app = drivertest.API

// server starts the app over TLS and returns settings that reach it,
// trusting only its certificate.
func server(t *testing.T, a *app) httpdriver.Settings {
	t.Helper()
	srv := drivertest.ServeTLS(t, a)
	return httpdriver.Settings{URL: srv.URL, TokenFile: srv.TokenFile, CAFile: srv.CAFile, Timeout: config.Duration(2 * time.Second)}
}

func open(t *testing.T, s httpdriver.Settings) *httpdriver.Driver {
	t.Helper()
	d, err := httpdriver.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestContract(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repos")
	good := server(t, &app{Root: root})
	drivertest.Run(t, func(t *testing.T) shim.Driver { return open(t, good) }, drivertest.Fixture{
		Root: root,
		Faulty: func(t *testing.T, f drivertest.Fault) shim.Driver {
			s := server(t, &app{Root: root, Fault: f.String()})
			s.Timeout = config.Duration(500 * time.Millisecond)
			return open(t, s)
		},
	})
}

func TestFailuresDeny(t *testing.T) {
	root := t.TempDir()
	for _, tt := range []struct {
		name string
		edit func(*httpdriver.Settings)
		app  *app
		want string
	}{
		{"no token", func(s *httpdriver.Settings) { s.TokenFile = "" }, &app{Root: root}, "status 401"},
		{"system CAs only", func(s *httpdriver.Settings) { s.CAFile = "" }, &app{Root: root}, "certificate"},
		{"redirect", nil, &app{Root: root, Fault: "redirect"}, "status 302"},
		{"crash", nil, &app{Root: root, Fault: "crash"}, "status 500"},
	} {
		s := server(t, tt.app)
		if tt.edit != nil {
			tt.edit(&s)
		}
		_, err := open(t, s).Authenticate(context.Background(), drivertest.Alice().Credentials)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Authenticate = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "token-644")
	os.WriteFile(open, []byte("t\n"), 0o644)
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o644)
	sec := config.Duration(time.Second)
	for _, tt := range []struct {
		s    httpdriver.Settings
		want string
	}{
		{httpdriver.Settings{Timeout: sec}, "url is empty"},
		{httpdriver.Settings{URL: "http://app.internal/api", Timeout: sec}, "use https"},
		{httpdriver.Settings{URL: "https://user:pw@app.internal/api", Timeout: sec}, "without user"},
		{httpdriver.Settings{URL: "https://app.internal", TokenFile: open, Timeout: sec}, "others can read the token"},
		{httpdriver.Settings{URL: "https://app.internal", TokenFile: "token", Timeout: sec}, "absolute path"},
		{httpdriver.Settings{URL: "https://app.internal", CAFile: notPEM, Timeout: sec}, "no PEM certificate"},
		{httpdriver.Settings{URL: "https://app.internal"}, "must be positive"},
	} {
		_, err := httpdriver.New(tt.s)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tt.s, err, tt.want)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8080/api", "http://localhost/x", "http://[::1]:9/"} {
		if _, err := httpdriver.New(httpdriver.Settings{URL: ok, Timeout: sec}); err != nil {
			t.Errorf("New(%s) = %v, want loopback http accepted", ok, err)
		}
	}
}

func TestFactory(t *testing.T) {
	cfg, err := config.Parse("c.toml", strings.NewReader("driver = \"http\"\n[drivers.http]\nurl = \"https://app.internal\"\ntoken = \"x\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = shim.OpenDriver("http", shim.DriverConfig{Settings: cfg.DriverSettings("http")})
	if err == nil || !strings.Contains(err.Error(), `c.toml:4: unknown key "drivers.http.token"`) {
		t.Errorf("OpenDriver = %v, want the unknown key with its line", err)
	}
}
