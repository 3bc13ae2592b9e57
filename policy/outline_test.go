package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestLiteralName(t *testing.T) {
	names := []string{"a", "a.git", "a/b", "a/b.git", "a.git.git", "x/a", "b", "a/b/c"}
	for _, pat := range []string{"a", "a.git", "a/b", "a/b.git", "a.git.git", "a/*", "**", "users/{user}", "{creator}/x"} {
		lit, ok := literalName(pat)
		p, err := compilePattern(pat)
		if err != nil {
			t.Fatal(err)
		}
		if wantLiteral := !strings.ContainsAny(pat, "*{"); ok != wantLiteral {
			t.Fatalf("literalName(%q) ok = %v", pat, ok)
		}
		for _, n := range names {
			parts, _ := splitName(n, nil)
			if m := p.match(parts, vars{user: "a", creator: "a"}); ok && m != (lit == trimGit(n)) {
				t.Errorf("pattern %q, name %q: match %v, literalName %q", pat, n, m, lit)
			}
		}
	}
}

const outlineDoc = `# header comment
decide = "first-match"
roles = ["READERS"]

[groups]
devs = ["alice", "bob"]

[[rule]]
repos = ["team/app", "team/lib.git"]
users = ["@devs"]
access = "write"

[[option]]
repos = ["team/*"]
deny_rules = true

[[rule]] # a pattern: kept for every repository
repos = ["team/*"]
users = ["@all"]
access = "read"

[[rule]]
repos = [
  "other/x", # multi-line
  "other/y",
]
users = ["carol"]
refs = ["main"]
access = "force"

[[rule]]
repos = ["mixed/a", "mixed/*"]
users = ["dave"]
access = "write"

[[rule]]
repos = ["re/a"]
repos_regex = ["re/.*"]
users = ["erin"]
access = "read"

[[webhook]]
url = "https://example.com/hook"
secret_file = "/etc/gitserver/hook.secret"
repos = ["team/app"]

[[rule]]
repos = ["team/app"]
users = ["role:READERS"]
access = "read"
`

func TestOutlineCut(t *testing.T) {
	data := []byte(outlineDoc)
	o, err := OutlineOf(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range o.Rules {
		got = append(got, strings.Join(s.Names, ","))
		if !strings.HasPrefix(string(data[s.Start:s.End]), "[[rule]]") {
			t.Errorf("span %d-%d does not start at its header: %q", s.Start, s.End, data[s.Start:s.End])
		}
	}
	if want := "team/app,team/lib|other/x,other/y|team/app"; strings.Join(got, "|") != want {
		t.Fatalf("outlined %q, want %q", got, want)
	}
	full, err := Parse("p.toml", strings.NewReader(outlineDoc))
	if err != nil {
		t.Fatal(err)
	}
	lines := func(p *Policy) (s []int) {
		for _, r := range p.Rules {
			s = append(s, r.Line)
		}
		return s
	}
	for _, tc := range []struct {
		repo  string
		rules int
	}{{"team/app", 5}, {"team/app.git", 5}, {"team/lib", 4}, {"other/y", 4}, {"nowhere/z", 3}, {"mixed/a", 3}} {
		cut, err := o.Cut(data, tc.repo)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(cut), "\n") != strings.Count(outlineDoc, "\n") {
			t.Fatalf("%s: cut changed the lines", tc.repo)
		}
		p, err := Parse("p.toml", strings.NewReader(string(cut)))
		if err != nil {
			t.Fatalf("%s: cut document: %v\n%s", tc.repo, err, cut)
		}
		if len(p.Rules) != tc.rules {
			t.Errorf("%s: %d rules (lines %v), want %d", tc.repo, len(p.Rules), lines(p), tc.rules)
		}
		for _, r := range p.Rules {
			if !hasLine(full, r.Line) {
				t.Errorf("%s: rule at line %d is not a rule of the whole document", tc.repo, r.Line)
			}
		}
		if p.HasWebhook("team/app") != full.HasWebhook("team/app") || p.UsesRoles() != full.UsesRoles() {
			t.Errorf("%s: cut lost webhooks or roles", tc.repo)
		}
	}
}

func hasLine(p *Policy, line int) bool {
	for _, r := range p.Rules {
		if r.Line == line {
			return true
		}
	}
	return false
}

func TestOutlineInlineRules(t *testing.T) {
	doc := "rule = [{repos = [\"a\"], users = [\"x\"], access = \"read\"}]\n"
	if _, err := Parse("p.toml", strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	o, err := OutlineOf([]byte(doc))
	if err != nil || len(o.Rules) != 0 {
		t.Fatalf("OutlineOf = %+v, %v; want nothing to cut", o, err)
	}
}

func TestCutRefusesAForeignOutline(t *testing.T) {
	o := Outline{Rules: []Span{{Start: 0, End: 100, Names: []string{"a"}}}}
	if _, err := o.Cut([]byte("x"), "b"); err == nil {
		t.Fatal("Cut took an outline that does not fit the document")
	}
}

// TestCutDecidesAsWhole checks, on random policies, that for every
// repository a cut document decides every request about it as the whole
// document does, with the same rule at the same line.
func TestCutDecidesAsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	repos := []string{"a/x", "a/y", "b/x", "b/y.git", "c", "users/u1/p", "u2/x"}
	users := []string{"u1", "u2", "u3", "admin"}
	for round := range 300 {
		doc := randomPolicy(rng, repos, users)
		full, err := Parse("p.toml", strings.NewReader(doc))
		if err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, doc)
		}
		o, err := OutlineOf([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, repo := range append(repos, "a/x.git", "nowhere") {
			cut, err := o.Cut([]byte(doc), repo)
			if err != nil {
				t.Fatal(err)
			}
			part, err := Parse("p.toml", strings.NewReader(string(cut)))
			if err != nil {
				t.Fatalf("round %d, %s: cut does not parse: %v\n%s", round, repo, err, cut)
			}
			compareDecisions(t, full, part, repo, users, fmt.Sprintf("round %d\n%s", round, doc))
		}
	}
}

// compareDecisions fails t if a and b decide some request about repo
// differently.
func compareDecisions(t *testing.T, a, b *Policy, repo string, users []string, ctx string) {
	t.Helper()
	var qs []Request
	for _, u := range users {
		for _, w := range []Access{Read, Write, Force, Create, Admin} {
			qs = append(qs, Request{User: u, Repo: repo, Creator: "u1", Want: w})
		}
		for _, ref := range []string{"refs/heads/main", "refs/tags/v1"} {
			for _, op := range []RefOp{RefCreate, RefFastForward, RefRewind, RefDelete} {
				qs = append(qs, Request{User: u, Repo: repo, Creator: "u1", Ref: ref, Op: op})
			}
		}
	}
	for _, q := range qs {
		da, db := a.Check(q), b.Check(q)
		if da.Allow != db.Allow || da.Access != db.Access || da.Explicit != db.Explicit || da.Rule.Pos() != db.Rule.Pos() {
			t.Fatalf("%+v: whole %v (%s), cut %v (%s)\n%s", q, da, da.Rule.Pos(), db, db.Rule.Pos(), ctx)
		}
	}
}

// randomPolicy writes a valid policy of literal, pattern and regex rules
// over repos and users, with a group, options and sometimes first-grant.
func randomPolicy(rng *rand.Rand, repos, users []string) string {
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	var b strings.Builder
	if rng.IntN(2) == 0 {
		b.WriteString("decide = \"first-grant\"\n")
	}
	fmt.Fprintf(&b, "[groups]\ng = [%q, %q]\n", pick(users), pick(users))
	access := []string{"none", "read", "write", "force", "create", "admin"}
	for range 1 + rng.IntN(12) {
		b.WriteString("\n")
		switch rng.IntN(8) {
		case 0:
			fmt.Fprintf(&b, "[[option]]\nrepos = [%q]\nexplicit_rights = [\"create-ref\"]\n", pick([]string{"a/*", "b/x", "c"}))
			continue
		case 1:
			b.WriteString("# a comment between tables\n")
		}
		b.WriteString("[[rule]]\n")
		switch rng.IntN(5) {
		case 0:
			fmt.Fprintf(&b, "repos = [%q]\n", pick([]string{"a/*", "**", "users/{user}/**", "{creator}", "b/*"}))
		case 1:
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, "repos = [%q]\n", pick(repos))
			}
			fmt.Fprintf(&b, "repos_regex = [%q]\n", pick([]string{"a/.*", "b/(x|y)", "c"}))
		default:
			r1, r2 := pick(repos), pick(repos)
			if rng.IntN(3) == 0 {
				r1 += ".git"
			}
			fmt.Fprintf(&b, "repos = [%q, %q]\n", r1, r2)
		}
		fmt.Fprintf(&b, "users = [%q]\n", pick(append([]string{"@g", "@all", "{creator}"}, users...)))
		if rng.IntN(3) == 0 {
			fmt.Fprintf(&b, "refs = [%q]\n", pick([]string{"main", "refs/tags/*"}))
		}
		if rng.IntN(4) == 0 {
			b.WriteString("allow = [\"delete-ref\"]\n")
			if rng.IntN(2) == 0 {
				continue
			}
			fmt.Fprintf(&b, "access = %q\n", pick(access[1:]))
			continue
		}
		fmt.Fprintf(&b, "access = %q\n", pick(access))
	}
	return b.String()
}

// FuzzCut checks on any document that parses that cutting it for a
// repository leaves one that parses and decides about it the same.
func FuzzCut(f *testing.F) {
	for _, data := range testdataPolicies(f) {
		f.Add(data, "team/app")
	}
	f.Add([]byte(outlineDoc), "team/app")
	f.Add([]byte(outlineDoc), "other/x.git")
	f.Add([]byte("[[rule]]\nrepos = [\"a\\u002fb\", 'c']\nusers = [\"alice\"]\naccess = \"read\"\n"), "a/b")
	f.Fuzz(func(t *testing.T, data []byte, repo string) {
		whole, err := Parse("f.toml", strings.NewReader(string(data)))
		if err != nil {
			return
		}
		o, err := OutlineOf(data)
		if err != nil {
			t.Fatalf("OutlineOf a document that parses: %v", err)
		}
		cut, err := o.Cut(data, repo)
		if err != nil {
			t.Fatal(err)
		}
		part, err := Parse("f.toml", strings.NewReader(string(cut)))
		if err != nil {
			t.Fatalf("cut does not parse: %v\n%q", err, cut)
		}
		compareDecisions(t, whole, part, repo, []string{"alice", "bob", "u1"}, string(data))
	})
}

// TestOutlineEscapes checks that names are outlined as TOML decodes them:
// a rule written "team\u002fapp" is team/app's, and is kept for it.
func TestOutlineEscapes(t *testing.T) {
	doc := strings.Repeat("[[rule]]\nrepos = [\"other/x\"]\nusers = [\"bob\"]\naccess = \"read\"\n\n", 3) +
		"[[rule]]\nrepos = [\"team\\u002fapp\", 'lit/x', \"\"\"ml/y\"\"\"]\nusers = [\"alice\"]\naccess = \"read\"\n"
	whole, err := Parse("p.toml", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	o, err := OutlineOf([]byte(doc))
	if err != nil || len(o.Rules) != 4 || strings.Join(o.Rules[3].Names, ",") != "team/app,lit/x,ml/y" {
		t.Fatalf("OutlineOf = %+v, %v", o, err)
	}
	for _, repo := range []string{"team/app", "lit/x", "ml/y", "other/x"} {
		cut, err := o.Cut([]byte(doc), repo)
		if err != nil {
			t.Fatal(err)
		}
		part, err := Parse("p.toml", strings.NewReader(string(cut)))
		if err != nil {
			t.Fatal(err)
		}
		compareDecisions(t, whole, part, repo, []string{"alice", "bob"}, doc)
	}
}
