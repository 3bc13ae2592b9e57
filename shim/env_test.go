package shim

import (
	"slices"
	"strings"
	"testing"
)

func TestValidProtocol(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"version=2", true},
		{"version=1", true},
		{"version=2:object-format=sha256", true},
		{"", false},
		{"version=2 ", false},
		{"version=2\nLD_PRELOAD=x", false},
		{"version=$(id)", false},
		{"=2", false},
		{"version=2:", false},
		{strings.Repeat("a", 300), false},
	} {
		if got := ValidProtocol(tt.in); got != tt.want {
			t.Errorf("ValidProtocol(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestEnvIsMinimal(t *testing.T) {
	got := Env("/home/git", "alice", "SHA256:abc", "version=2", "team/app")
	want := []string{
		"PATH=" + SafePath, "HOME=/home/git",
		"GITSERVER_USER=alice", "GITSERVER_KEY=SHA256:abc", "GITSERVER_REPO=team/app",
		"GIT_PROTOCOL=version=2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Env = %q, want %q", got, want)
	}
	if got := Env("/h", "alice", "SHA256:abc", "version=2\x00LD_PRELOAD=/x.so", "r"); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "GIT_PROTOCOL") }) {
		t.Errorf("Env passed a malformed GIT_PROTOCOL: %q", got)
	}
}

func TestParseAuthInfo(t *testing.T) {
	in := "password\npublickey ssh-ed25519 AAAAC3Nza\npublickey ecdsa-sha2-nistp256 AAAAE2\nkeyboard-interactive\n"
	got, err := ParseAuthInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []OfferedKey{{"ssh-ed25519", "AAAAC3Nza"}, {"ecdsa-sha2-nistp256", "AAAAE2"}}
	if !slices.Equal(got, want) {
		t.Errorf("ParseAuthInfo = %v, want %v", got, want)
	}
	if _, err := ParseAuthInfo(strings.NewReader("password\n")); err == nil {
		t.Error("ParseAuthInfo without publickey: no error")
	}
}

func TestLookGit(t *testing.T) {
	p, err := LookGit()
	if err != nil {
		t.Skip(err)
	}
	if !strings.HasPrefix(p, "/") {
		t.Errorf("LookGit = %q, want an absolute path", p)
	}
}
