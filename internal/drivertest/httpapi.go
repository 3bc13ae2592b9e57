package drivertest

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/execdriver/wire"
	"github.com/gitserver/gitserver/shim"
)

// Token is the bearer token API wants. Test token: NEVER use in
// production.
const Token = "test-token-never-for-production"

// API is the scenario as an application's internal API, for the http
// driver: POST /api/OP with Token, models as JSON. Fault, when set, is
// a Fault's name, "crash" (500), or "redirect" (302).
type API struct {
	Root  string
	Fault string
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+Token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var req wire.Request
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch a.Fault {
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

func (a *API) answer(op string, req *wire.Request) map[string]any {
	if a.Fault == "outside" {
		return map[string]any{"user": "alice", "model": map[string]string{"user": "alice"}, "allow": true, "path": "/etc"}
	}
	name := strings.TrimSuffix(strings.Trim(req.Path, "/"), ".git")
	switch op {
	case wire.OpAuthenticate:
		if !bytes.Equal(req.Key, Alice().Credentials.Key) {
			return map[string]any{"error": wire.CodeUnknownKey}
		}
		return map[string]any{"user": User}
	case wire.OpUserModel:
		if req.User != User {
			return map[string]any{"error": wire.CodeUnknownUser}
		}
		return map[string]any{"model": map[string]string{"user": req.User}}
	case wire.OpAuthorize:
		var m struct{ User string }
		json.Unmarshal(req.Model, &m)
		for _, g := range Grants {
			if g.User == m.User && g.Repo == name && (g.Write || req.Command != shim.ReceivePack) {
				return map[string]any{"allow": true, "rule": "grant " + g.Repo}
			}
		}
		return map[string]any{"allow": false}
	case wire.OpRepoPath:
		return map[string]any{"path": filepath.Join(a.Root, name+".git")}
	}
	return map[string]any{"error": "failed", "message": "unknown op " + op}
}

// HTTPServer is where a running API is and how to reach it.
type HTTPServer struct {
	URL       string // https://127.0.0.1:PORT/api/
	CAFile    string // its certificate, PEM: trust only this
	TokenFile string // holds Token, mode 0600
}

// ServeTLS starts a over TLS until the test ends.
func ServeTLS(t *testing.T, a *API) HTTPServer {
	t.Helper()
	srv := httptest.NewTLSServer(a)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	s := HTTPServer{URL: srv.URL + "/api/", CAFile: filepath.Join(dir, "ca.pem"), TokenFile: filepath.Join(dir, "token")}
	if err := os.WriteFile(s.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.TokenFile, []byte(Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}
