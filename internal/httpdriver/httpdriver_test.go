package httpdriver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/execdriver/wire"
	"github.com/gitserver/gitserver/internal/httpdriver"
	"github.com/gitserver/gitserver/shim"
)

const token = "test-token-never-for-production"

// app is an application's internal API holding the drivertest scenario,
// or misbehaving as fault says.
type app struct {
	root  string
	fault string
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var req wire.Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch a.fault {
	case "hang":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "garbage":
		w.Write([]byte("<html>maintenance</html>"))
		return
	case "crash":
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case "oversize":
		w.Write([]byte(`{"user":"` + strings.Repeat("a", 2<<20) + `"}`))
		return
	case "redirect":
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
		return
	}
	json.NewEncoder(w).Encode(a.answer(strings.TrimPrefix(r.URL.Path, "/api/"), &req))
}

func (a *app) answer(op string, req *wire.Request) map[string]any {
	if a.fault == "outside" {
		return map[string]any{"user": "alice", "model": map[string]string{"user": "alice"}, "allow": true, "path": "/etc"}
	}
	name := strings.TrimSuffix(strings.Trim(req.Path, "/"), ".git")
	switch op {
	case wire.OpAuthenticate:
		if !bytes.Equal(req.Key, drivertest.Alice().Credentials.Key) {
			return map[string]any{"error": wire.CodeUnknownKey}
		}
		return map[string]any{"user": drivertest.User}
	case wire.OpUserModel:
		if req.User != drivertest.User {
			return map[string]any{"error": wire.CodeUnknownUser}
		}
		return map[string]any{"model": map[string]string{"user": req.User}}
	case wire.OpAuthorize:
		var m struct{ User string }
		json.Unmarshal(req.Model, &m)
		for _, g := range drivertest.Grants {
			if g.User == m.User && g.Repo == name && (g.Write || req.Command != shim.ReceivePack) {
				return map[string]any{"allow": true, "rule": "grant " + g.Repo}
			}
		}
		return map[string]any{"allow": false}
	case wire.OpRepoPath:
		return map[string]any{"path": filepath.Join(a.root, name+".git")}
	}
	return map[string]any{"error": "failed", "message": "unknown op " + op}
}

// server starts the app over TLS and returns settings that reach it,
// trusting only its certificate.
func server(t *testing.T, a *app) httpdriver.Settings {
	t.Helper()
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return httpdriver.Settings{URL: srv.URL + "/api/", TokenFile: tok, CAFile: ca, Timeout: config.Duration(2 * time.Second)}
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
	good := server(t, &app{root: root})
	drivertest.Run(t, func(t *testing.T) shim.Driver { return open(t, good) }, drivertest.Fixture{
		Root: root,
		Faulty: func(t *testing.T, f drivertest.Fault) shim.Driver {
			s := server(t, &app{root: root, fault: f.String()})
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
		{"no token", func(s *httpdriver.Settings) { s.TokenFile = "" }, &app{root: root}, "status 401"},
		{"system CAs only", func(s *httpdriver.Settings) { s.CAFile = "" }, &app{root: root}, "certificate"},
		{"redirect", nil, &app{root: root, fault: "redirect"}, "status 302"},
		{"crash", nil, &app{root: root, fault: "crash"}, "status 500"},
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
