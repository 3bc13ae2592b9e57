package policy

import (
	"slices"
	"strings"
	"testing"
)

const adminPolicy = `
[groups]
ops = ["carol"]

[[rule]]
repos  = ["secret"]
users  = ["@all"]
access = "none"

[[rule]]
repos  = ["**"]
users  = ["root", "@ops"]
access = "admin"

[[rule]]
repos  = ["team/**"]
users  = ["dave"]
access = "admin"

[[rule]]
repos_regex = ["users/{user}/.*"]
users  = ["@all"]
access = "create"

[[rule]]
repos  = ["wild/*"]
users  = ["{creator}"]
access = "create"
`

func TestIsAdminAndCreatePatterns(t *testing.T) {
	p, err := Parse("p.toml", strings.NewReader(adminPolicy))
	if err != nil {
		t.Fatal(err)
	}
	for user, want := range map[string]bool{"root": true, "carol": true, "dave": false, "alice": false, "@ops": false, "": false} {
		if got := p.IsAdmin(user); got != want {
			t.Errorf("IsAdmin(%q) = %v, want %v", user, got, want)
		}
	}
	got := p.CreatePatterns("alice")
	want := []string{"regex:users/{user}/.*", "wild/*"}
	if !slices.Equal(got, want) {
		t.Errorf("CreatePatterns(alice) = %q, want %q", got, want)
	}
	if got := p.CreatePatterns("dave"); len(got) != 3 || got[0] != "team/**" {
		t.Errorf("CreatePatterns(dave) = %q", got)
	}
	var nilp *Policy
	if nilp.IsAdmin("root") || nilp.CreatePatterns("root") != nil {
		t.Error("a nil policy has admins or create patterns")
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		glob, name string
		want       bool
	}{
		{"team/*", "team/app", true},
		{"team/*", "team/app.git", true},
		{"team/*", "team/a/b", false},
		{"team/**", "team/a/b", true},
		{"**", "x", true},
		{"*app", "myapp", true},
		{"team/*", "../team/x", false},
	} {
		g, err := CompileGlob(tt.glob)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", tt.glob, err)
		}
		if got := g.Match(tt.name); got != tt.want {
			t.Errorf("CompileGlob(%q).Match(%q) = %v, want %v", tt.glob, tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"{user}/*", "a?", "a[b]", ""} {
		if _, err := CompileGlob(bad); err == nil {
			t.Errorf("CompileGlob(%q) succeeded", bad)
		}
	}
}
