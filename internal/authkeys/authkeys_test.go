package authkeys

import (
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
)

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/gitserver/config.toml": "/etc/gitserver/config.toml",
		"SHA256:ab+/=":               "SHA256:ab+/=",
		"":                           "''",
		"/a b/c":                     "'/a b/c'",
		"it's":                       `'it'\''s'`,
		`$(x)"`:                      `'$(x)"'`,
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestForcedCommandLine(t *testing.T) {
	blob := []byte("\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + strings.Repeat("k", 32))
	k := keys.Key{Type: "ssh-ed25519", Blob: blob, Fingerprint: keys.Fingerprint(blob)}
	line, err := ForcedCommandLine(`/etc/my "gs"/config.toml`, "alice", k)
	if err != nil {
		t.Fatal(err)
	}
	want := ` --config '/etc/my \"gs\"/config.toml' shell --user alice --key ` + k.Fingerprint + `",restrict ` + k.AuthorizedKey()
	if !strings.HasPrefix(line, `command="/`) || !strings.HasSuffix(line, want) || strings.Count(line, "\n") != 0 {
		t.Errorf("line = %s\nwant command=\"/…%s", line, want)
	}
	if _, err := ForcedCommandLine("/etc/x\n/config.toml", "alice", k); err == nil {
		t.Error("a config path with a newline was accepted")
	}
}
