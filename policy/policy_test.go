package policy

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// decideCase is one Decide call and the expected allow and deciding line
// (0 for no rule).
type decideCase struct {
	user, repo string
	want       Access
	allow      bool
	line       int
}

func checkDecide(t *testing.T, p *Policy, tests []decideCase) {
	t.Helper()
	for _, tt := range tests {
		d := p.Decide(tt.user, tt.repo, tt.want)
		line := 0
		if d.Rule != nil {
			line = d.Rule.Line
		}
		if d.Allow != tt.allow || line != tt.line {
			t.Errorf("Decide(%q, %q, %v) = %v (line %d), want allow=%v line %d", tt.user, tt.repo, tt.want, d, line, tt.allow, tt.line)
		}
	}
}

func TestDecideExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(data))
	checkDecide(t, p, []decideCase{
		{"alice", "any/thing", Write, true, 5},
		{"alice", "users/bob/x", Write, true, 5},
		{"bob", "users/bob/x", Write, true, 10},
		{"bob", "users/bob/x.git", Write, true, 10},
		{"bob", "users/bob/deep/x", Write, true, 10},
		{"bob", "users/alice/x", Read, false, 0},
		{"carol", "public/site", Read, true, 15},
		{"carol", "public/site.git", Read, true, 15},
		{"carol", "public/site", Write, false, 15},
		{"carol", "public/a/b", Read, false, 0},
		{"carol", "private/x", Read, false, 0},
		// staff includes bob but no rule names staff.
		{"bob", "team/x", Read, false, 0},
	})
}

func TestDecideFirstMatchWins(t *testing.T) {
	p := mustParse(t, `
[[rule]]
repos  = ["secret/**"]
users  = ["@all"]
access = "none"

[[rule]]
repos  = ["**"]
users  = ["@all"]
access = "write"

[[rule]]
repos  = ["**"]
users  = ["bob"]
access = "read"
`)
	checkDecide(t, p, []decideCase{
		{"bob", "secret/x", Read, false, 2},
		{"bob", "secret", Read, false, 2},
		{"bob", "open/x", Write, true, 7},
		{"alice", "open/x", Write, true, 7},
	})
	d := p.Decide("bob", "secret/x", Read)
	if d.Access != None || d.Rule != p.Rules[0] {
		t.Errorf("none rule: Decide = %+v, want Access none by rule 0", d)
	}
}

func TestDecideGroups(t *testing.T) {
	p := mustParse(t, `
[groups]
admins = ["alice"]
staff  = ["bob", "@admins"]
all-staff = ["@staff", "dave"]

[[rule]]
repos  = ["ops/**"]
users  = ["@all-staff"]
access = "read"

[[rule]]
repos  = ["staff/*"]
users  = ["carol", "@staff"]
access = "write"
`)
	checkDecide(t, p, []decideCase{
		{"alice", "ops/x", Read, true, 7},
		{"bob", "ops/x", Read, true, 7},
		{"dave", "ops/x", Read, true, 7},
		{"carol", "ops/x", Read, false, 0},
		{"alice", "staff/x", Write, true, 12},
		{"bob", "staff/x", Write, true, 12},
		{"carol", "staff/x", Write, true, 12},
		{"dave", "staff/x", Write, false, 0},
		{"erin", "staff/x", Read, false, 0},
	})
}

func TestDecideRejectsBadInput(t *testing.T) {
	p := mustParse(t, "[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"write\"\n")
	checkDecide(t, p, []decideCase{
		{"alice", "a/b", Write, true, 1},
		{"alice", "a/b", None, false, 0},      // the zero level is never granted, nor asked of rules
		{"alice", "a/b", Access(9), false, 0}, // nor a level that does not exist
		{"", "a/b", Read, false, 0},           // no user
		{"@all", "a/b", Read, false, 0},       // not a user name
		{"a/b", "a/b", Read, false, 0},        // not a user name
		{"..", "a/b", Read, false, 0},         // not a user name
		{"alice", "", Read, false, 0},         // not canonical
		{"alice", "/a/b", Read, false, 0},     // not canonical
		{"alice", "a//b", Read, false, 0},     // not canonical
		{"alice", "a/../b", Read, false, 0},   // not canonical
		{"alice", "a/b/", Read, false, 0},     // not canonical
		{"alice", ".git", Read, false, 0},     // not canonical
	})
	var nilPolicy *Policy
	if d := nilPolicy.Decide("alice", "a", Read); d.Allow {
		t.Errorf("nil Policy: Decide = %v, want deny", d)
	}
	if d := new(Policy).Decide("alice", "a", Read); d.Allow {
		t.Errorf("zero Policy: Decide = %v, want deny", d)
	}
}

func TestDecideUserPattern(t *testing.T) {
	p := mustParse(t, `
[[rule]]
repos  = ["users/{user}/**", "{user}.git"]
users  = ["@all"]
access = "write"
`)
	checkDecide(t, p, []decideCase{
		{"alice", "users/alice/x", Write, true, 2},
		{"alice", "alice", Write, true, 2},
		{"alice", "alice.git", Write, true, 2},
		{"alice", "bob", Write, false, 0},
		{"alice@example.com", "users/alice@example.com/x", Write, true, 2},
		{"alice", "users/alice@example.com/x", Write, false, 0},
	})
}

func TestDecideDeepName(t *testing.T) {
	p := mustParse(t, "[[rule]]\nrepos = [\"**/x\"]\nusers = [\"@all\"]\naccess = \"read\"\n")
	deep := strings.Repeat("a/", 2*maxSegments) + "x"
	if d := p.Decide("u", deep, Read); !d.Allow {
		t.Errorf("Decide(%d segments) = %v, want allow", 2*maxSegments+1, d)
	}
}

func TestDecisionString(t *testing.T) {
	r := &Rule{File: "policy.toml", Line: 7}
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Allow: true, Access: Write, Rule: r}, "allow: write by policy.toml:7"},
		{Decision{Access: Read, Rule: r}, "deny: read by policy.toml:7"},
		{Decision{Access: None, Rule: r}, "deny: none by policy.toml:7"},
		{Decision{}, "deny: no rule matched"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got := (&Rule{File: "p.toml"}).Pos(); got != "p.toml" {
		t.Errorf("Pos() without line = %q, want p.toml", got)
	}
}

func TestDecideDoesNotAllocate(t *testing.T) {
	p := benchPolicy(t, 100)
	allocs := testing.AllocsPerRun(100, func() {
		p.Decide("user7", "users/user7/project", Write)
	})
	if allocs != 0 {
		t.Errorf("Decide: %v allocations, want 0", allocs)
	}
}

// benchPolicy returns a policy of n rules, of which only the last matches
// a request for users/USER/...: n-1 team rules open to everyone, each
// with a pattern to try, and a group rule.
func benchPolicy(t testing.TB, n int) *Policy {
	var b strings.Builder
	b.WriteString("[groups]\nstaff = [")
	for i := range 50 {
		fmt.Fprintf(&b, "%q, ", fmt.Sprintf("user%d", i))
	}
	b.WriteString("]\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "[[rule]]\nrepos = [\"team%d/**\", \"*-%d/*\"]\nusers = [\"@all\"]\naccess = \"read\"\n", i, i)
	}
	b.WriteString("[[rule]]\nrepos = [\"users/{user}/**\"]\nusers = [\"@staff\"]\naccess = \"write\"\n")
	p, err := Parse("bench.toml", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func BenchmarkDecide(b *testing.B) {
	p := benchPolicy(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Decide("user7", "users/user7/project", Write); !d.Allow || d.Rule != p.Rules[999] {
			b.Fatalf("Decide = %v", d)
		}
	}
}

// BenchmarkParse parses policies shaped like a gitolite import, one
// stanza per repository (a write rule for two users and a group, a read
// rule for everyone), at 1, 100, 1,000 and 5,000 repositories. Behind
// sshd every request is a new process, which parses the policy once (a
// push twice: the shell and the pre-receive hook), so this is what the
// policy's size adds to each request there; `serve` parses it only when
// the file changes.
//
//	go test -run '^$' -bench Parse -benchtime 20x ./policy
func BenchmarkParse(b *testing.B) {
	for _, repos := range []int{1, 100, 1000, 5000} {
		var doc strings.Builder
		doc.WriteString("[groups]\nadmins = [\"alice\", \"bob\"]\n")
		for i := range repos {
			fmt.Fprintf(&doc, "\n[[rule]]\nrepos = [\"team%d/app%d\"]\nusers = [\"user%d\", \"user%d\", \"@admins\"]\naccess = \"write\"\n", i, i, i, i+1)
			fmt.Fprintf(&doc, "\n[[rule]]\nrepos = [\"team%d/app%d\"]\nusers = [\"@all\"]\naccess = \"read\"\n", i, i)
		}
		data := doc.String()
		b.Run(fmt.Sprintf("rules=%d", 2*repos), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := Parse("bench.toml", strings.NewReader(data))
				if err != nil || len(p.Rules) != 2*repos {
					b.Fatalf("Parse: %v", err)
				}
			}
		})
	}
}
