package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/exe"
)

// TestREADMEShowsSSHDConfig: the block README.md says 'gitserver
// sshd-config' prints is what it prints, for the default paths.
func TestREADMEShowsSSHDConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := bytes.Cut(readme, []byte("`gitserver sshd-config` prints"))
	if !ok {
		t.Fatal("README.md no longer shows what sshd-config prints")
	}
	_, block, _ := bytes.Cut(after, []byte("```\n"))
	block, _, _ = bytes.Cut(block, []byte("```\n"))

	cfg := filepath.Join(t.TempDir(), "config.toml")
	writeFile(t, cfg, "ssh_user = \"git\"\nrepos = \"/srv/git\"\ndata_dir = \"/var/lib/gitserver\"\n")
	var out, errb bytes.Buffer
	e := &env{strings.NewReader(""), &out, &errb, func(string) string { return "" }, context.Background()}
	if code := run(e, []string{"--config", cfg, "sshd-config"}); code != 0 {
		t.Fatalf("sshd-config: exit %d\n%s", code, errb.String())
	}
	self, err := exe.Self()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.NewReplacer(self, "/usr/local/bin/gitserver", cfg, "/etc/gitserver/config.toml").Replace(out.String())
	if got != string(block) {
		t.Errorf("README.md shows:\n%s\nsshd-config prints:\n%s", block, got)
	}
}
