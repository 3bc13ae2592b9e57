package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mustParse parses src as p.toml.
func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("p.toml", strings.NewReader(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestParseExample(t *testing.T) {
	f, err := os.Open("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := Parse("policy.toml", f)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []struct {
		pos    string
		repos  []string
		users  []string
		access Access
	}{
		{"policy.toml:5", []string{"**"}, []string{"@admins"}, Write},
		{"policy.toml:10", []string{"users/{user}/**"}, []string{"@all"}, Write},
		{"policy.toml:15", []string{"public/*"}, []string{"@all"}, Read},
	}
	if len(p.Rules) != len(want) {
		t.Fatalf("Parse: %d rules, want %d", len(p.Rules), len(want))
	}
	for i, w := range want {
		r := p.Rules[i]
		if r.Pos() != w.pos || !slices.Equal(r.Repos, w.repos) || !slices.Equal(r.Users, w.users) || r.Access != w.access {
			t.Errorf("rule %d = %s %q %q %v, want %s %q %q %v", i, r.Pos(), r.Repos, r.Users, r.Access, w.pos, w.repos, w.users, w.access)
		}
	}
}

func TestParseBrokenFixtures(t *testing.T) {
	tests := []struct{ file, want string }{
		{"typo.toml", `policy: typo.toml:7: unknown field "rule.acess"`},
		{"cycle.toml", `policy: cycle.toml:3: group cycle: admins -> staff -> admins`},
		{"bad_access.toml", `policy: bad_access.toml:8: unknown access "wrte" (want none, read, write, force, create or admin)`},
		{"bad_pattern.toml", `policy: bad_pattern.toml:6: bad repo pattern "team/a**": ** must be a whole segment`},
		{"unknown_group.toml", `policy: unknown_group.toml:4: unknown group "@admin"`},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(tt.file, strings.NewReader(string(data)))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%s) = %v, want %s", tt.file, err, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const rule = "repos = [\"**\"]\nusers = [\"@all\"]\naccess = \"read\"\n"
	tests := []struct{ src, want string }{
		// Strict decoding.
		{"x = 1\n", `p.toml:1: unknown field "x"`},
		{"[[rule]]\n" + rule + "acess = \"read\"\n", `p.toml:5: unknown field "rule.acess"`},
		{"[[rule]]\n" + rule + "[rule.x]\ny = 1\n", `p.toml:5: unknown field "rule.x"`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\nAccess = \"write\"\n", `p.toml:4: unknown field "rule.Access"`},
		{"[[Rule]]\n" + rule, `p.toml:1: unknown field "Rule"`},
		{"[Groups]\na = [\"b\"]\n", `p.toml:1: unknown field "Groups"`},
		{"rule = [{repos = [\"**\"], users = [\"@all\"], Access = \"read\"}]\n", `p.toml:1: unknown field "rule.Access"`},
		{"[[rule]]\nrepos = \"**\"\n", `p.toml:2: "rule.repos" must be a list of strings`},
		{"[[rule]]\nusers = [1]\n", `p.toml:2: "rule.users" must be a list of strings`},
		{"[[rule]]\naccess = 1\n", `p.toml:2: "rule.access" must be a string`},
		{"rule = 1\n", `p.toml:1: "rule" must be an array of tables ([[rule]])`},
		{"groups = 1\n", `p.toml:1: "groups" must be a table of groups`},
		{"[groups]\na = \"x\"\n", `p.toml:2: "groups.a" must be a list of strings`},
		{"[groups.a]\nb = 1\n", `p.toml:1: "groups.a" must be a list of strings`},
		{"[groups]\na = [\"x\"]\na = [\"y\"]\n", `p.toml:3: key a is already defined`},
		{"[[rule]\n", `p.toml:1: expected ']]'`},
		{"\n\n[[rule]]\nrepos = [\"**\"\n", `p.toml:4: `},
		// Rules.
		{"[[rule]]\nusers = [\"@all\"]\naccess = \"read\"\n", `p.toml:1: rule has no repos`},
		{"[[rule]]\nrepos = []\nusers = [\"@all\"]\naccess = \"read\"\n", `p.toml:1: rule has no repos`},
		{"[[rule]]\nrepos = [\"**\"]\naccess = \"read\"\n", `p.toml:1: rule has no users`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\n", `p.toml:1: rule has no access`},
		{"[[rule]]\n" + rule + "\n[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"Write\"\n", `p.toml:6: unknown access "Write" (want none, read, write, force, create or admin)`},
		{"[[rule]]\nrepos = [\"/a\"]\nusers = [\"@all\"]\naccess = \"read\"\n", `p.toml:1: bad repo pattern "/a": leading /`},
		{"[[rule]]\nrepos = [\"a/../b\"]\nusers = [\"@all\"]\naccess = \"read\"\n", `p.toml:1: bad repo pattern "a/../b": segment ".."`},
		{"[[rule]]\nrepos = [\"a?\"]\nusers = [\"@all\"]\naccess = \"read\"\n", `p.toml:1: bad repo pattern "a?": character '?' is reserved (for a regular expression use repos_regex or refs_regex)`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"@nope\"]\naccess = \"read\"\n", `p.toml:1: unknown group "@nope"`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"@\"]\naccess = \"read\"\n", `p.toml:1: unknown group "@"`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"a b\"]\naccess = \"read\"\n", `p.toml:1: invalid user name "a b"`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"\"]\naccess = \"read\"\n", `p.toml:1: invalid user name ""`},
		{"[[rule]]\nrepos = [\"**\"]\nusers = [\"..\"]\naccess = \"read\"\n", `p.toml:1: invalid user name ".."`},
		{"rule = [\n  {repos = [\"**\"], users = [\"@all\"], access = \"read\"},\n  {repos = [\"**\"], users = [\"@all\"]},\n]\n", `p.toml:3: rule has no access`},
		// Groups.
		{"[groups]\na = [\"@b\"]\nb = [\"@a\"]\n", `p.toml:3: group cycle: a -> b -> a`},
		{"[groups]\n\na = [\"x\", \"@a\"]\n", `p.toml:3: group cycle: a -> a`},
		{"[groups]\na = [\"@b\"]\nb = [\"@c\"]\nc = [\"@b\"]\n", `p.toml:4: group cycle: a -> b -> c -> b`},
		{"[groups]\na = [\"x\"]\nb = [\"@a\", \"@c\"]\n", `p.toml:3: group "b": unknown group "@c"`},
		{"[groups]\nall = [\"x\"]\n", `p.toml:2: group name "all" is reserved (@all is every user)`},
		{"[groups]\n\"@a\" = [\"x\"]\n", `p.toml:2: invalid group name "@a"`},
		{"[groups]\n\"a b\" = [\"x\"]\n", `p.toml:2: invalid group name "a b"`},
		{"[groups]\na = [\"@all\"]\n", `p.toml:2: group "a": @all cannot be a group member (use it in a rule's users)`},
		{"[groups]\na = [\"x/y\"]\n", `p.toml:2: group "a": invalid user name "x/y"`},
		{"groups.a = [\"ok\"]\ngroups.b = [\"-\", \"@nope\"]\n", `p.toml:2: group "b": unknown group "@nope"`},
		{"groups = {a = [\"ok\"],\n b = [\"@nope\"]}\n", `p.toml:2: group "b": unknown group "@nope"`},
	}
	for _, tt := range tests {
		_, err := Parse("p.toml", strings.NewReader(tt.src))
		want := "policy: " + tt.want
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %s", tt.src, err, want)
		}
	}
}

func TestParseMultipleUnknownFields(t *testing.T) {
	_, err := Parse("p.toml", strings.NewReader("x = 1\n[[rule]]\nrepo = [\"**\"]\n"))
	want := "policy: p.toml:1: unknown field \"x\"\npolicy: p.toml:3: unknown field \"rule.repo\""
	if err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}
}

func TestParseTooLarge(t *testing.T) {
	src := strings.Repeat("#\n", MaxSize/2) + "x"
	_, err := Parse("p.toml", strings.NewReader(src))
	want := "policy: p.toml is larger than 4 MiB"
	if err == nil || err.Error() != want {
		t.Errorf("Parse(%d bytes) = %v, want %s", len(src), err, want)
	}
	if _, err := Parse("p.toml", strings.NewReader(src[:MaxSize])); err != nil {
		t.Errorf("Parse(%d bytes) = %v, want success", MaxSize, err)
	}
}

func TestParseEmpty(t *testing.T) {
	p := mustParse(t, "# nothing yet\n[groups]\nadmins = []\n")
	if len(p.Rules) != 0 {
		t.Errorf("Parse: %d rules, want 0", len(p.Rules))
	}
	if d := p.Decide("alice", "a/b", Read); d.Allow || d.Rule != nil {
		t.Errorf("empty policy: Decide = %v, want deny", d)
	}
	if m, ok := p.Members("admins"); !ok || len(m) != 0 {
		t.Errorf("Members(admins) = %q, %v; want [], true", m, ok)
	}
}

func TestMembers(t *testing.T) {
	p := mustParse(t, `
[groups]
a = ["zed", "@b", "@c"]
b = ["bob", "@c"]
c = ["carol", "bob"]
d = []
`)
	tests := []struct {
		group string
		want  []string
		ok    bool
	}{
		{"a", []string{"bob", "carol", "zed"}, true},
		{"@a", []string{"bob", "carol", "zed"}, true},
		{"b", []string{"bob", "carol"}, true},
		{"c", []string{"bob", "carol"}, true},
		{"d", []string{}, true},
		{"all", nil, false},
		{"nope", nil, false},
	}
	for _, tt := range tests {
		got, ok := p.Members(tt.group)
		if ok != tt.ok || !slices.Equal(got, tt.want) {
			t.Errorf("Members(%q) = %q, %v; want %q, %v", tt.group, got, ok, tt.want, tt.ok)
		}
	}
	got, _ := p.Members("a")
	got[0] = "mallory"
	if again, _ := p.Members("a"); again[0] != "bob" {
		t.Errorf("Members returned the policy's own slice")
	}
}
