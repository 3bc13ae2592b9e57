package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// TestCustomBinary builds this example and runs its authorized-keys: the
// driver registered here answers through gitserver's own command line.
func TestCustomBinary(t *testing.T) {
	dir := t.TempDir()
	pub := keygen(t, dir, "alice")
	os.MkdirAll(filepath.Join(dir, "teams/web"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "teams/web/alice.pub"), []byte(pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("ssh_user = \"git\"\nrepos = \"repos\"\ndata_dir = \"data\"\ndriver = \"teams\"\n[drivers.teams]\nkeys_dir = \""+filepath.Join(dir, "teams")+"\"\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	bin := filepath.Join(dir, "gitserver-custom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := strings.Fields(pub)
	out, err := exec.Command(bin, "--config", cfg, "authorized-keys", "git", f[0], f[1]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "shell --user alice --key SHA256:") {
		t.Fatalf("authorized-keys through the custom driver: %v\n%s", err, out)
	}

	d, err := shim.OpenDriver("teams", shim.DriverConfig{Repos: filepath.Join(dir, "repos"),
		Settings: func(v any) error { v.(*settings).KeysDir = filepath.Join(dir, "teams"); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := d.GetUserModel(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cmd, path string
		want      bool
	}{
		{shim.UploadPack, "/other/app.git", true},
		{shim.ReceivePack, "web/site.git", true},
		{shim.ReceivePack, "/other/app.git", false},
	} {
		if dec, err := d.Authorize(ctx, m, tt.cmd, tt.path); err != nil || dec.Allow != tt.want {
			t.Errorf("Authorize(%s, %s) = %v, %v; want %v", tt.cmd, tt.path, dec, err, tt.want)
		}
	}
	if _, err := d.GetUserModel(ctx, "mallory"); err != shim.ErrUnknownUser {
		t.Errorf("GetUserModel(mallory) = %v, want ErrUnknownUser", err)
	}
}

func keygen(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-only", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	b, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sshkey.ParseLine(string(b)); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
