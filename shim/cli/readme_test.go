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

// TestREADMEShowsSSHDConfig: the blocks README.md says 'gitserver
// sshd-config' and 'sshd-config --force-command' print are what they
// print, for the default paths.
func TestREADMEShowsSSHDConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, "ssh_user = \"git\"\nrepos = \"/srv/git\"\ndata_dir = \"/var/lib/gitserver\"\n")
	self, err := exe.Self()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ intro, args string }{
		{"`gitserver sshd-config` prints", ""},
		{"`gitserver sshd-config --force-command` prints", "--force-command"},
	} {
		_, after, ok := bytes.Cut(readme, []byte(tt.intro))
		if !ok {
			t.Fatalf("README.md no longer shows what %s", tt.intro)
		}
		_, block, _ := bytes.Cut(after, []byte("```\n"))
		block, _, _ = bytes.Cut(block, []byte("```\n"))
		var out, errb bytes.Buffer
		e := &env{strings.NewReader(""), &out, &errb, func(string) string { return "" }, context.Background()}
		args := append([]string{"--config", cfg, "sshd-config"}, strings.Fields(tt.args)...)
		if code := run(e, args); code != 0 {
			t.Fatalf("sshd-config %s: exit %d\n%s", tt.args, code, errb.String())
		}
		got := strings.NewReplacer(self, "/usr/local/bin/gitserver", cfg, "/etc/gitserver/config.toml", dir, "/etc/gitserver").Replace(out.String())
		if got != string(block) {
			t.Errorf("README.md shows, after %s:\n%s\nsshd-config %s prints:\n%s", tt.intro, block, tt.args, got)
		}
	}
}
