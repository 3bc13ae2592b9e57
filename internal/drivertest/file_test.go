package drivertest_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/drivertest"
	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// TestFileDriver runs the contract against the built-in driver: the
// scenario's key in a key store, its grants as policy rules.
func TestFileDriver(t *testing.T) {
	dir := t.TempDir()
	root, data := filepath.Join(dir, "repos"), filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	c := drivertest.Alice().Credentials
	k, err := sshkey.ParseKey(c.KeyType, base64.StdEncoding.EncodeToString(c.Key))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(filepath.Join(data, "keys.db"), keys.Options{}).Add([]keys.Record{{User: drivertest.User, Key: k}}); err != nil {
		t.Fatal(err)
	}
	var pol strings.Builder
	for _, g := range drivertest.Grants {
		access := "read"
		if g.Write {
			access = "write"
		}
		fmt.Fprintf(&pol, "[[rule]]\nrepos = [%q]\nusers = [%q]\naccess = %q\n\n", g.Repo, g.User, access)
	}
	policy := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(policy, []byte(pol.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := shim.DriverConfig{Repos: root, DataDir: data, Policy: policy}
	drivertest.Run(t, func(t *testing.T) shim.Driver { return filedriver.New(cfg) }, drivertest.Fixture{Root: root})
}
