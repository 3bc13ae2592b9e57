package policy

import "testing"

// match compiles pattern and matches it against repo for user, as a rule
// would, after checking that repo is canonical.
func match(t testing.TB, pattern, user, repo string) bool {
	t.Helper()
	p, err := compilePattern(pattern)
	if err != nil {
		t.Fatalf("compilePattern(%q): %v", pattern, err)
	}
	name, ok := splitName(repo, nil)
	if !ok {
		t.Fatalf("splitName(%q): not canonical", repo)
	}
	return p.match(name, vars{user: user})
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, user, repo string
		want                bool
	}{
		{"**", "u", "a", true},
		{"**", "u", "a/b/c", true},
		{"**", "u", "a.git", true},
		{"a/**", "u", "a", true},
		{"a/**", "u", "a/x", true},
		{"a/**", "u", "a/x/y", true},
		{"a/**", "u", "ab", false},
		{"a/**", "u", "b/a", false},
		{"**/x", "u", "x", true},
		{"**/x", "u", "a/b/x", true},
		{"**/x", "u", "a/x/b", false},
		{"**/x", "u", "ax", false},
		{"a/**/b", "u", "a/b", true},
		{"a/**/b", "u", "a/x/y/b", true},
		{"a/**/b", "u", "a/x/y/c", false},
		{"**/a/**", "u", "x/a/y", true},
		{"**/a/**", "u", "x/b/y", false},
		{"**/**", "u", "x", true},
		{"*", "u", "a", true},
		{"*", "u", "a/b", false},
		{"public/*", "u", "public/x", true},
		{"public/*", "u", "public/x/y", false},
		{"public/*", "u", "public", false},
		{"*/*", "u", "a/b", true},
		{"a*", "u", "a", true},
		{"a*", "u", "abc", true},
		{"a*", "u", "ba", false},
		{"*a", "u", "ba", true},
		{"*a", "u", "ab", false},
		{"a*b*c", "u", "abc", true},
		{"a*b*c", "u", "axxbyyc", true},
		{"a*b*c", "u", "axxbyy", false},
		{"a*a", "u", "a", false},
		{"a*a", "u", "aa", true},
		{"*.*", "u", "a.b", true},
		{"*.*", "u", "ab", false},
		{"*x*", "u", "abc", false},
		{"*b*", "u", "abc", true},
		{"a.b", "u", "a.b", true},
		{"a.b", "u", "axb", false},
		{"a+b", "u", "a+b", true},
		{"users/{user}/**", "alice", "users/alice/x", true},
		{"users/{user}/**", "alice", "users/alice", true},
		{"users/{user}/**", "alice", "users/bob/x", false},
		{"users/{user}/**", "alice", "users/alicex/x", false},
		{"users/{user}/**", "a.b", "users/axb/x", false},
		{"{user}-*", "bob", "bob-notes", true},
		{"{user}-*", "bob", "bobby-notes", false},
		{"x{user}{user}", "ab", "xabab", true},
		{"*-{user}", "bob", "notes-bob", true},
		{"*{user}*", "bob", "xbobx", true},
		{"*{user}*", "bob", "xbox", false},
		{"public/*.git", "u", "public/x", true},
		{"public/*.git", "u", "public/x.git", true},
		{"public/*", "u", "public/x.git", true},
		{"public/x", "u", "public/x.git", true},
		{"public/x.git", "u", "public/x", true},
		{"a.git/b", "u", "a.git/b", true},
		{"a.git/b", "u", "a/b", false},
		{"x.git.git", "u", "x.git.git", true},
		{"x.git.git", "u", "x.git", false},
		{"x.git.git", "u", "x", false},
	}
	for _, tt := range tests {
		if got := match(t, tt.pattern, tt.user, tt.repo); got != tt.want {
			t.Errorf("match(%q, %q, %q) = %v, want %v", tt.pattern, tt.user, tt.repo, got, tt.want)
		}
	}
}

func TestCompilePatternErrors(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"", "empty pattern"},
		{".git", "empty pattern"},
		{"/a", "leading /"},
		{"a//b", "empty segment"},
		{"a/", "empty segment"},
		{"a/../b", `segment ".."`},
		{"./a", `segment "."`},
		{"a**b", "** must be a whole segment"},
		{"a/***", "** must be a whole segment"},
		{"a**", "** must be a whole segment"},
		{"a?", `character '?' is reserved (for a regular expression use repos_regex or refs_regex)`},
		{"[ab]", `character '[' is reserved (for a regular expression use repos_regex or refs_regex)`},
		{"a]", `character ']' is reserved (for a regular expression use repos_regex or refs_regex)`},
		{`a\b`, `character '\\' is reserved (for a regular expression use repos_regex or refs_regex)`},
		{"{usr}", "braces other than {user} and {creator}"},
		{"{user", "braces other than {user} and {creator}"},
		{"a}", "braces other than {user} and {creator}"},
		{"{{user}}", "braces other than {user} and {creator}"},
	}
	for _, tt := range tests {
		_, err := compilePattern(tt.pattern)
		if err == nil || err.Error() != tt.want {
			t.Errorf("compilePattern(%q) = %v, want %q", tt.pattern, err, tt.want)
		}
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		name string
		want int // segments, or -1 for not canonical
	}{
		{"a", 1},
		{"a/b", 2},
		{"a/b.git", 2},
		{"a.git/b", 2},
		{"", -1},
		{".git", -1},
		{"/a", -1},
		{"a/", -1},
		{"a//b", -1},
		{"a/../b", -1},
		{"a/./b", -1},
		{"..", -1},
		{"a/.git", -1},
	}
	for _, tt := range tests {
		segs, ok := splitName(tt.name, nil)
		got := len(segs)
		if !ok {
			got = -1
		}
		if got != tt.want {
			t.Errorf("splitName(%q) = %q, %v; want %d segments", tt.name, segs, ok, tt.want)
		}
	}
}
