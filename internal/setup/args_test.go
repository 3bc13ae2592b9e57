package setup

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestParseCall(t *testing.T) {
	env := func(cfg string) func(string) string {
		return func(k string) string {
			if k == "GITSERVER_CONFIG" {
				return cfg
			}
			return ""
		}
	}
	wd, _ := filepath.Abs(".")
	for _, tt := range []struct {
		args []string
		env  string
		ok   bool
		want Call
	}{
		{[]string{"--config", "/etc/g.toml", "authorized-keys", "git", "ssh-ed25519", "AAAA"}, "", true,
			Call{"/etc/g.toml", "authorized-keys", []string{"git", "ssh-ed25519", "AAAA"}}},
		{[]string{"authorized-keys", "git", "ssh-ed25519", "AAAA"}, "", true,
			Call{"/etc/gitserver/config.toml", "authorized-keys", []string{"git", "ssh-ed25519", "AAAA"}}},
		{[]string{"authorized-keys", "git", "ssh-ed25519", "AAAA"}, "rel.toml", true,
			Call{filepath.Join(wd, "rel.toml"), "authorized-keys", []string{"git", "ssh-ed25519", "AAAA"}}},
		{[]string{"--config", "/c", "shell", "--user", "alice", "--key", "SHA256:x"}, "", true,
			Call{"/c", "shell", []string{"alice", "SHA256:x"}}},
		{[]string{"--config", "/c", "hook", "pre-receive"}, "", true,
			Call{"/c", "hook", []string{"pre-receive"}}},
		// Anything else is the full parser's.
		{[]string{"--config", "/c", "hook", "post-receive"}, "", false, Call{}},
		{[]string{"--config", "/c", "hook", "pre-receive", "x"}, "", false, Call{}},
		{[]string{"authorized-keys", "git", "ssh-ed25519"}, "", false, Call{}},
		{[]string{"authorized-keys", "git", "--help", "AAAA"}, "", false, Call{}},
		{[]string{"authorized-keys", "", "ssh-ed25519", "AAAA"}, "", false, Call{}},
		{[]string{"shell"}, "", false, Call{}},
		{[]string{"shell", "--key", "SHA256:x", "--user", "alice"}, "", false, Call{}},
		{[]string{"shell", "--user", "-alice", "--key", "SHA256:x"}, "", false, Call{}},
		{[]string{"--config", "", "shell", "--user", "alice", "--key", "SHA256:x"}, "", false, Call{}},
		{[]string{"--config=/c", "shell", "--user", "alice", "--key", "SHA256:x"}, "", false, Call{}},
		{[]string{"keys", "list"}, "", false, Call{}},
		{nil, "", false, Call{}},
	} {
		got, ok := ParseCall(tt.args, env(tt.env))
		if ok != tt.ok || got.Config != tt.want.Config || got.Name != tt.want.Name || !slices.Equal(got.Args, tt.want.Args) {
			t.Errorf("ParseCall(%q) = %+v, %v; want %+v, %v", tt.args, got, ok, tt.want, tt.ok)
		}
	}
}
