package policy

import (
	"strings"
	"testing"
)

// refPolicy exercises ref rules, regexes, placeholders and the new levels.
// Each rule's line is given in the comment before it.
const refPolicy = `[groups]
devs = ["bob", "carol"]

[[rule]] # 4: dave may touch nothing but reads
repos  = ["app"]
users  = ["dave"]
refs   = ["**"]
access = "none"

[[rule]] # 10: main is protected from devs
repos  = ["app"]
users  = ["@devs"]
refs   = ["main"]
access = "none"

[[rule]] # 16: release tags only by carol, rewritable
repos  = ["app"]
users  = ["carol"]
refs   = ["refs/tags/v*"]
access = "force"

[[rule]] # 22: no one else touches tags
repos  = ["app"]
users  = ["@all"]
refs   = ["refs/tags/**"]
access = "none"

[[rule]] # 28: devs own their branches
repos      = ["app"]
users      = ["@devs"]
refs_regex = ["^refs/heads/{user}/.+$"]
access     = "force"

[[rule]] # 34: alternation
repos      = ["app"]
users      = ["@devs"]
refs_regex = ["refs/heads/(dev|next)"]
access     = "write"

[[rule]] # 40: alice administers
repos  = ["**"]
users  = ["alice"]
access = "admin"

[[rule]] # 45: everyone reads app, dave too
repos  = ["app"]
users  = ["@all"]
access = "read"

[[rule]] # 50: personal namespaces
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"

[[rule]] # 55: creators own what they created
repos  = ["shared/*"]
users  = ["{creator}"]
access = "force"

[[rule]] # 60: regex repos
repos_regex = ["^(foo|bar)/[a-z]+$"]
users       = ["@devs"]
access      = "write"
`

func TestCheckRefs(t *testing.T) {
	p, err := Parse("p.toml", strings.NewReader(refPolicy))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		user, repo, creator, ref string
		want                     Access
		allow                    bool
		line                     int
	}{
		// Reads ignore ref rules, but not their grants (gitolite's "any").
		{"dave", "app", "", "", Read, true, 45},
		{"bob", "app", "", "", Read, true, 28}, // ref rule 28 grants force: it counts at repo level
		{"bob", "app", "", "", Write, true, 28},
		{"carol", "app", "", "", Write, true, 16},
		{"erin", "app", "", "", Write, false, 45},
		// Per-ref.
		{"dave", "app", "", "refs/heads/x", Write, false, 4},
		{"bob", "app", "", "refs/heads/main", Write, false, 10},
		{"bob", "app", "", "refs/heads/bob/topic", Force, true, 28},
		{"bob", "app", "", "refs/heads/carol/topic", Write, false, 45},
		{"bob", "app", "", "refs/heads/dev", Write, true, 34},
		{"bob", "app", "", "refs/heads/dev", Force, false, 34},
		{"bob", "app", "", "refs/heads/devel", Write, false, 45},
		{"carol", "app", "", "refs/tags/v1.0", Force, true, 16},
		{"bob", "app", "", "refs/tags/v1.0", Write, false, 22},
		{"alice", "app", "", "refs/tags/v1.0", Write, false, 22},
		{"alice", "app", "", "refs/heads/main", Force, true, 40},
		{"alice", "other", "", "refs/heads/main", Admin, true, 40},
		// Personal namespaces and creators.
		{"erin", "users/erin/x", "", "", Create, true, 50},
		{"erin", "users/bob/x", "", "", Read, false, 0},
		{"erin", "shared/x", "erin", "", Force, true, 55},
		{"erin", "shared/x", "bob", "", Read, false, 0},
		{"erin", "shared/x", "", "", Read, false, 0},
		// Regex repos are anchored.
		{"bob", "foo/abc", "", "", Write, true, 60},
		{"bob", "foo/abc/d", "", "", Read, false, 0},
		{"bob", "xfoo/abc", "", "", Read, false, 0},
		// Bad refs deny without looking at rules.
		{"alice", "app", "", "heads/main", Write, false, 0},
		{"alice", "app", "", "refs//main", Write, false, 0},
	}
	// For a ref, write stands for a fast-forward, force for a rewind and
	// admin for a delete.
	ops := map[Access]RefOp{Write: RefFastForward, Force: RefRewind, Admin: RefDelete}
	for _, tt := range tests {
		q := Request{User: tt.user, Repo: tt.repo, Creator: tt.creator, Ref: tt.ref, Want: tt.want}
		if tt.ref != "" {
			q.Op = ops[tt.want]
		}
		d := p.Check(q)
		line := 0
		if d.Rule != nil {
			line = d.Rule.Line
		}
		if d.Allow != tt.allow || line != tt.line {
			t.Errorf("Check(%s, %s, creator %q, ref %q, %v) = %v (line %d), want allow=%v line %d",
				tt.user, tt.repo, tt.creator, tt.ref, tt.want, d, line, tt.allow, tt.line)
		}
	}
	if !p.UsesCreator() {
		t.Errorf("UsesCreator() = false for a policy with {creator}")
	}
}

func TestDecideRefOps(t *testing.T) {
	p, err := Parse("p.toml", strings.NewReader(`
[[rule]]
repos = ["w"]
users = ["@all"]
access = "write"

[[rule]]
repos = ["f"]
users = ["@all"]
access = "force"
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		repo  string
		op    RefOp
		allow bool
	}{
		{"w", RefCreate, true}, {"w", RefFastForward, true}, {"w", RefRewind, false}, {"w", RefDelete, false},
		{"f", RefCreate, true}, {"f", RefFastForward, true}, {"f", RefRewind, true}, {"f", RefDelete, true},
		{"f", RefOp(0), false}, {"f", RefOp(9), false},
	} {
		if d := p.DecideRef("u", tt.repo, "", "refs/heads/main", tt.op); d.Allow != tt.allow {
			t.Errorf("DecideRef(u, %s, %v) = %v, want allow=%v", tt.repo, tt.op, d, tt.allow)
		}
	}
}

func TestParseRefErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{`refs = ["a?"]`, `bad ref pattern "a?"`},
		{`refs = []`, `empty refs list`},
		{`refs_regex = ["(a"]`, `bad regular expression "(a"`},
		{`repos_regex = ["["]`, `bad regular expression "["`},
		{`refs = ["{owner}/x"]`, `braces other than`},
		{`Refs = ["x"]`, `unknown field "rule.Refs"`},
	} {
		src := "[[rule]]\nrepos = [\"a\"]\nusers = [\"@all\"]\naccess = \"read\"\n" + tt.src + "\n"
		_, err := Parse("p.toml", strings.NewReader(src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want error containing %q", tt.src, err, tt.want)
		}
	}
	src := "[[rule]]\nrepos_regex = [\"a.*\"]\nusers = [\"@all\"]\naccess = \"read\"\n"
	if _, err := Parse("p.toml", strings.NewReader(src)); err != nil {
		t.Errorf("a rule with only repos_regex: %v", err)
	}
}
