package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStore(t *testing.T) {
	dir := t.TempDir()
	file := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	private := file("private.dsn", "postgres://gs:secret@db/gs\n# comment\n", 0o640)
	public := file("public.dsn", "postgres://gs:secret@db/gs\n", 0o644)
	empty := file("empty.dsn", "\n", 0o600)
	for _, tt := range []struct {
		in, dsn, err string
	}{
		{"", "", "no PostgreSQL configured"},
		{`postgres = "postgres://db/gs"`, "postgres://db/gs", ""},
		{`dsn_file = "` + private + `"`, "postgres://gs:secret@db/gs", ""},
		{`dsn_file = "` + public + `"`, "", "readable by others (mode 0644)"},
		{`dsn_file = "` + empty + `"`, "", "first line is empty"},
		{`dsn_file = "` + filepath.Join(dir, "absent") + `"`, "", "no such file"},
	} {
		c, err := Parse("/etc/gs/c.toml", strings.NewReader("[store]\n"+tt.in+"\n"))
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tt.in, err)
		}
		dsn, err := c.Store.DSN()
		if dsn != tt.dsn || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("DSN() of %q = %q, %v; want %q, error containing %q", tt.in, dsn, err, tt.dsn, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("DSN() of %q: the error shows the password: %v", tt.in, err)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"[store]\npostgres = \"x\"\ndsn_file = \"/y\"\n", "not both"},
		{"[store]\ndsn_file = \"pg.dsn\"\n", "absolute path"},
		{"[store]\npostgress = \"x\"\n", `unknown key "store.postgress"`},
		{"[store]\npostgres = \"x\"\nmax_lag = \"1s\"\n", "max_lag must be at least 2s"},
		{"[store]\npostgres = \"x\"\nmax_lag = \"soon\"\n", "not a duration"},
	} {
		if _, err := Parse("c.toml", strings.NewReader(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

// TestStoreLag: max_lag bounds a replica only when a store is named; it
// defaults to five minutes.
func TestStoreLag(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "0s",
		"[store]\npostgres = \"x\"\n": "5m0s",
		"[store]\npostgres = \"x\"\nmax_lag = \"30s\"\n": "30s",
	} {
		c, err := Parse("c.toml", strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Store.Lag().String(); got != want {
			t.Errorf("Lag() of %q = %s, want %s", in, got, want)
		}
	}
}

// TestPolicyDefaultWithStore: with [store], the policy left out is the
// replica in data_dir, which the replica daemon (the ssh user) writes; a
// policy set in the file stays as set.
func TestPolicyDefaultWithStore(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"data_dir = \"/d\"\n", "/etc/gitserver/policy.toml"},
		{"data_dir = \"/d\"\n[store]\npostgres = \"postgres:///g\"\n", "/d/policy.toml"},
		{"data_dir = \"/d\"\npolicy = \"/p.toml\"\n[store]\npostgres = \"postgres:///g\"\n", "/p.toml"},
	} {
		c, err := Parse("/etc/gitserver/config.toml", strings.NewReader(tt.body))
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.body, err)
		} else if c.Policy != tt.want {
			t.Errorf("Parse(%q).Policy = %v, want %s", tt.body, c.Policy, tt.want)
		}
	}
}
