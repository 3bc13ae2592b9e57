package policy

import (
	"strings"
	"testing"
)

// grantPolicy is gitolite's way of deciding, written the gitserver way:
// decide = "first-grant", ref rights, options and roles. Each rule's
// line is in the comment before it.
const grantPolicy = `decide = "first-grant"
roles = ["READERS", "WRITERS"]


[groups]
devs = ["bob", "carol"]

[[rule]] # 8: RW = bob (write, without creating refs where that is explicit)
repos  = ["foo", "bar"]
users  = ["bob"]
access = "write"

[[rule]] # 13: - master = bob
repos      = ["foo", "bar"]
users      = ["bob"]
refs_regex = ["refs/heads/master.*"]
access     = "none"

[[rule]] # 19: RW+ = bob
repos  = ["foo", "bar"]
users  = ["bob"]
access = "force"

[[rule]] # 24: RWC = carol
repos  = ["foo"]
users  = ["carol"]
access = "write"
allow  = ["create-ref"]

[[rule]] # 30: RWD = carol, on bar
repos  = ["bar"]
users  = ["carol"]
access = "write"
allow  = ["delete-ref"]

[[rule]] # 36: C = @devs
repos  = ["w/*"]
users  = ["@devs"]
allow  = ["create-repo"]

[[rule]] # 41: roles
repos  = ["w/*"]
users  = ["role:WRITERS"]
access = "write"

[[rule]] # 46
repos  = ["w/*"]
users  = ["role:READERS", "{creator}"]
access = "read"

[[option]] # 51: RWC in foo makes ref creation explicit there
repos           = ["foo"]
explicit_rights = ["create-ref"]

[[option]] # 55
repos      = ["bar"]
deny_rules = true
`

func TestFirstGrant(t *testing.T) {
	p := mustParse(t, grantPolicy)
	roles := map[string][]string{"WRITERS": {"@devs"}, "READERS": {"dave", "nobody"}, "OTHER": {"@all"}}
	tests := []struct {
		user, repo, creator, ref string
		op                       RefOp
		want                     Access
		allow                    bool
		line                     int
	}{
		// Passed over: the write rule at 8 does not grant a rewind; the
		// none rule at 13 refuses master only.
		{"bob", "foo", "", "refs/heads/dev", RefRewind, 0, true, 19},
		{"bob", "foo", "", "refs/heads/master", RefRewind, 0, false, 13},
		{"bob", "foo", "", "refs/heads/master", RefFastForward, 0, true, 8},
		{"bob", "foo", "", "", 0, Force, true, 19},
		// foo makes create-ref explicit: only carol's allow grants it.
		{"bob", "foo", "", "refs/heads/new", RefCreate, 0, false, 0},
		{"carol", "foo", "", "refs/heads/new", RefCreate, 0, true, 24},
		{"carol", "foo", "", "refs/heads/new", RefDelete, 0, false, 0},
		{"carol", "foo", "", "", RefCreate, 0, true, 24},
		// bar does not: write creates, and carol's allow adds deletes.
		{"bob", "bar", "", "refs/heads/new", RefCreate, 0, true, 8},
		{"carol", "bar", "", "refs/heads/x", RefDelete, 0, true, 30},
		{"carol", "bar", "", "refs/heads/x", RefRewind, 0, false, 0},
		// deny_rules: bar's none rule with refs refuses bob the whole
		// repository... after rule 8, which grants read and write first.
		{"bob", "bar", "", "", 0, Read, true, 8},
		{"bob", "bar", "", "", 0, Force, false, 13},
		{"bob", "foo", "", "", 0, Force, true, 19},
		// A creation-only grant: no read, no write.
		{"carol", "w/x", "", "", 0, Create, true, 36},
		{"carol", "w/x", "", "", 0, Read, true, 41}, // by the role, not by 36
		{"erin", "w/x", "", "", 0, Create, false, 0},
		// Roles: WRITERS through a group, READERS directly, {creator}.
		{"bob", "w/x", "", "refs/heads/a", RefFastForward, 0, true, 41},
		{"dave", "w/x", "", "", 0, Read, true, 46},
		{"dave", "w/x", "", "", 0, Write, false, 0},
		{"erin", "w/x", "erin", "", 0, Read, true, 46},
		{"erin", "w/x", "", "", 0, Read, false, 0}, // OTHER is not declared
	}
	for _, tt := range tests {
		q := Request{User: tt.user, Repo: tt.repo, Creator: tt.creator, Roles: roles, Ref: tt.ref, Op: tt.op, Want: tt.want}
		d := p.Check(q)
		line := 0
		if d.Rule != nil {
			line = d.Rule.Line
		}
		if d.Allow != tt.allow || line != tt.line {
			t.Errorf("Check(%s %s creator=%q ref=%q op=%v want=%v) = %v (line %d), want allow=%v line %d",
				tt.user, tt.repo, tt.creator, tt.ref, tt.op, tt.want, d, line, tt.allow, tt.line)
		}
	}
	// A refusal says when what was asked is explicit in the repository.
	if d := p.DecideRef("bob", "foo", "", "refs/heads/new", RefCreate); d.Explicit != RightCreateRef {
		t.Errorf("create in foo: Explicit = %v, want create-ref", d.Explicit)
	}
	if d := p.DecideRef("bob", "bar", "", "refs/heads/master", RefRewind); d.Explicit != 0 {
		t.Errorf("rewind in bar: Explicit = %v, want none", d.Explicit)
	}
	// Without roles, nobody holds one.
	if d := p.Check(Request{User: "dave", Repo: "w/x", Want: Read}); d.Allow {
		t.Errorf("dave reads w/x without role members: %v", d)
	}
	if !p.UsesRoles() || !p.HasRole("READERS") || p.HasRole("OTHER") {
		t.Errorf("UsesRoles %v, HasRole(READERS) %v, HasRole(OTHER) %v", p.UsesRoles(), p.HasRole("READERS"), p.HasRole("OTHER"))
	}
}

// TestFirstMatchStops: without decide, the first matching rule decides,
// so a write rule caps a later force rule, as it always has.
func TestFirstMatchStops(t *testing.T) {
	p := mustParse(t, strings.Replace(grantPolicy, `decide = "first-grant"`, "", 1))
	if d := p.DecideRef("bob", "foo", "", "refs/heads/dev", RefRewind); d.Allow || d.Rule.Line != 8 {
		t.Errorf("first-match: rewind = %v, want deny by line 8", d)
	}
	p = mustParse(t, strings.Replace(grantPolicy, `decide = "first-grant"`, `decide = "first-match"`, 1))
	if p.FirstGrant {
		t.Errorf(`decide = "first-match" set FirstGrant`)
	}
}

func TestRuleGrants(t *testing.T) {
	p := mustParse(t, grantPolicy)
	for line, want := range map[int]string{8: "write", 13: "none", 24: "write+create-ref", 30: "write+delete-ref", 36: "create-repo"} {
		for _, r := range p.Rules {
			if r.Line == line && r.Grants() != want {
				t.Errorf("rule at %d grants %q, want %q", line, r.Grants(), want)
			}
		}
	}
	if got := (Access(Force).Rights() | RightCreateRepo).Level(); got != Create {
		t.Errorf("Level = %v, want create", got)
	}
}

func TestParseRightsErrors(t *testing.T) {
	rule := "[[rule]]\nrepos = [\"a\"]\nusers = [\"@all\"]\n"
	for _, tt := range []struct{ src, want string }{
		{rule + `allow = ["push"]`, `p.toml:1: unknown right "push"`},
		{rule + `allow = []`, `empty allow list`},
		{rule + `allow = ["read", "read"]`, `right "read" listed twice`},
		{rule + "access = \"none\"\nallow = [\"read\"]", `cannot also allow`},
		{rule, `rule has no access (or allow)`},
		{rule + "access = \"read\"\nAllow = [\"read\"]", `unknown field "rule.Allow"`},
		{"decide = \"first\"\n", `p.toml:1: unknown decide "first"`},
		{"roles = [\"a b\"]\n", `invalid role name "a b"`},
		{"roles = [\"A\", \"A\"]\n", `role "A" declared twice`},
		{"[[rule]]\nrepos = [\"a\"]\nusers = [\"role:X\"]\naccess = \"read\"\n", `unknown role "X"`},
		{"[[option]]\nrepos = [\"a\"]\n", `p.toml:1: option sets nothing`},
		{"[[option]]\ndeny_rules = true\n", `option has no repos`},
		{"[[option]]\nrepos = [\"a\"]\nexplicit_rights = [\"fly\"]\n", `unknown right "fly"`},
		{"[[option]]\nrepos = [\"a\"]\ndeny_rules = 1\n", `"option.deny_rules" must be true or false`},
		{"[[option]]\nrepos = [\"a\"]\nDeny_rules = true\n", `unknown field "option.Deny_rules"`},
		{"Decide = \"first-grant\"\n", `unknown field "Decide"`},
	} {
		_, err := Parse("p.toml", strings.NewReader(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.src, err, tt.want)
		}
	}
}
