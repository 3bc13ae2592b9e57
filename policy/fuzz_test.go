package policy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testdataPolicies returns the policies in testdata, as seeds.
func testdataPolicies(f *testing.F) [][]byte {
	files, _ := filepath.Glob("testdata/*.toml")
	var docs [][]byte
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		docs = append(docs, data)
	}
	return docs
}

func FuzzParse(f *testing.F) {
	for _, data := range testdataPolicies(f) {
		f.Add(data)
	}
	f.Add([]byte("rule = [{repos = [\"a/*\"], users = [\"@g\"], access = \"read\"}]\ngroups = {g = [\"x\"]}\n"))
	f.Add([]byte("groups.a = [\"@b\"]\ngroups.b = [\"c\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.toml", strings.NewReader(string(data)))
		if err != nil {
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if !strings.HasPrefix(line, "policy: f.toml") {
					t.Fatalf("Parse error %q lacks the policy: f.toml prefix", line)
				}
			}
			return
		}
		for _, r := range p.Rules {
			if r.File != "f.toml" || r.Line <= 0 || len(r.patterns) != len(r.Repos) {
				t.Fatalf("rule %+v: bad position or patterns", r)
			}
		}
		for g := range p.groups {
			if m, ok := p.Members(g); !ok || !slices.IsSorted(m) {
				t.Fatalf("Members(%q) = %q, %v", g, m, ok)
			}
		}
		roles := map[string][]string{}
		for _, r := range p.Roles {
			roles[r] = []string{"x", "@all"}
		}
		for _, name := range []string{"a", "a/b", "users/x/y.git", "public/x", "foo", "w/x"} {
			p.Decide("x", name, Read)
			d := p.Check(Request{User: "x", Repo: name, Creator: "x", Roles: roles, Ref: "refs/heads/main", Op: RefDelete})
			if d.Allow && (d.Rule == nil || d.Rule.Rights&RightDeleteRef == 0) {
				t.Fatalf("delete allowed by %v, which grants no delete-ref", d.Rule)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	f.Add("**", "alice", "a/b")
	f.Add("users/{user}/**", "alice", "users/alice/x")
	f.Add("a*b*c", "u", "axbyc")
	f.Add("**/x/**/y", "u", "a/x/b/c/y")
	f.Add("*{user}*.git", "bob", "xbobx.git")
	f.Fuzz(func(t *testing.T, pat, user, repo string) {
		name, nameOK := splitName(repo, nil)
		userOK := validUser(user)
		if nameOK && userOK {
			all, err := compilePattern("**")
			if err != nil || !all.match(name, vars{user: user}) {
				t.Fatalf("** does not match %q", repo)
			}
		}
		p, err := compilePattern(pat)
		if err != nil || !nameOK || !userOK {
			return
		}
		got := p.match(name, vars{user: user})
		if len(pat)+len(repo) <= 64 {
			want := refMatch(strings.Split(strings.ReplaceAll(trimGit(pat), userVar, user), "/"), name)
			if got != want {
				t.Fatalf("match(%q, %q, %q) = %v, reference says %v", pat, user, repo, got, want)
			}
		}
		if !strings.ContainsAny(pat, "*{") && nameOK && !p.match(mustSplit(t, pat), vars{user: user}) {
			t.Fatalf("literal pattern %q does not match itself", pat)
		}
	})
}

func mustSplit(t *testing.T, s string) []string {
	name, ok := splitName(s, nil)
	if !ok {
		t.Fatalf("splitName(%q) failed for a compiled pattern", s)
	}
	return name
}

// refMatch is a slow, obviously correct matcher for the fuzzer to compare
// against: pattern segments (with {user} already replaced, which is safe
// because user names hold no "*") against name segments.
func refMatch(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if refMatch(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	return len(name) > 0 && refGlob(pat[0], name[0]) && refMatch(pat[1:], name[1:])
}

// refGlob matches one segment, "*" matching any run of bytes.
func refGlob(pat, s string) bool {
	if pat == "" {
		return s == ""
	}
	if pat[0] == '*' {
		for i := 0; i <= len(s); i++ {
			if refGlob(pat[1:], s[i:]) {
				return true
			}
		}
		return false
	}
	return s != "" && pat[0] == s[0] && refGlob(pat[1:], s[1:])
}
