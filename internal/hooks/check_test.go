package hooks

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// asHookVar, set in a push's environment, makes this test binary stand in
// for gitserver in the hooks directory (see TestMain).
const asHookVar = "GITSERVER_HOOKS_TEST_AS_HOOK"

// TestMain runs the tests, or, run by a pre-receive script as "BIN
// --config DIR/config hook pre-receive" with asHookVar set, the hook
// itself: PreReceive with the file driver of DIR (policy.toml, keys.db),
// logging to DIR/log. git runs it as it runs gitserver's, inside a real
// push: quarantine, GIT_DIR and all.
func TestMain(m *testing.M) {
	if a := os.Args; os.Getenv(asHookVar) == "1" && len(a) >= 5 && a[1] == "--config" && a[3] == "hook" && a[4] == "pre-receive" {
		os.Exit(runAsHook(filepath.Dir(a[2])))
	}
	os.Exit(m.Run())
}

func runAsHook(dir string) int {
	f, err := os.OpenFile(filepath.Join(dir, "log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 1
	}
	defer f.Close()
	stdin, err := ReadInput(os.Stdin)
	if err != nil {
		return 1
	}
	git, err := shim.LookGit()
	if err != nil {
		return 1
	}
	d := filedriver.New(shim.DriverConfig{Repos: dir, DataDir: dir, Policy: filepath.Join(dir, "policy.toml")})
	p := &Push{
		Env: os.Environ(), Stdin: stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Log: hclog.New(&hclog.LoggerOptions{Output: f, Level: hclog.Debug}),
	}
	return p.PreReceive(context.Background(), d, git)
}

// site is a repository whose pushes run gitserver's hooks directory, with
// this test binary as gitserver, for the users in its key store.
type site struct {
	*repo
	data string // policy.toml, keys.db, log
}

// newSite sets up a repository (main holds one commit) pushed to as user,
// with the policy text pol.
func newSite(t *testing.T, user, pol string) *site {
	t.Helper()
	s := &site{repo: newRepo(t), data: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.data, "policy.toml"), []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	st := keys.Open(filepath.Join(s.data, "keys.db"), keys.Options{})
	key := testKey(t, 1)
	if _, err := st.Add([]keys.Record{{User: user, Key: key}}); err != nil {
		t.Fatal(err)
	}
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := Ensure(filepath.Join(s.data, "hooks"), bin, filepath.Join(s.data, "config"))
	if err != nil {
		t.Fatal(err)
	}
	s.srv("config", "core.hooksPath", hooks)
	s.env = append(s.env, asHookVar+"=1", "GITSERVER_USER="+user, "GITSERVER_REPO=team/app", "GITSERVER_KEY="+key.Fingerprint)
	return s
}

// push runs git push from the work tree to the repository.
func (s *site) push(args ...string) (string, error) {
	return s.try(s.work, append([]string{"push", s.dir}, args...)...)
}

// log is what the hook has logged so far.
func (s *site) log() string {
	b, _ := os.ReadFile(filepath.Join(s.data, "log"))
	return string(b)
}

// testKey is the i-th test key: an ed25519 public key made of 32 fixed
// bytes, as sshkey.ParseKey accepts it. Never a real key; never use it
// anywhere else.
func testKey(t *testing.T, i byte) keys.Key {
	t.Helper()
	var blob []byte
	for _, f := range [][]byte{[]byte("ssh-ed25519"), []byte(strings.Repeat(string(rune('A'+i)), 32))} {
		blob = binary.BigEndian.AppendUint32(blob, uint32(len(f)))
		blob = append(blob, f...)
	}
	k, err := sshkey.ParseKey("ssh-ed25519", base64.StdEncoding.EncodeToString(blob))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// checkPolicy gives bob write on main and force on his own branches.
const checkPolicy = `
[[rule]]
repos  = ["team/app"]
users  = ["bob"]
refs   = ["main"]
access = "write"

[[rule]]
repos      = ["team/app"]
users      = ["bob"]
refs_regex = ["^refs/heads/bob/.+$"]
access     = "force"
`

func TestPreReceiveDecidesEachRef(t *testing.T) {
	s := newSite(t, "bob", checkPolicy)
	first := s.git(s.work, "rev-parse", "HEAD")
	s.commit("second")
	for _, tt := range []struct {
		name string
		args []string
		ok   bool
		msg  string // in the push's output
	}{
		{"fast-forward with write", []string{"HEAD:main"}, true, ""},
		{"create with force", []string{"HEAD:refs/heads/bob/x"}, true, ""},
		{"rewind without force", []string{"-f", first + ":main"}, false, "gitserver: refs/heads/main: non-fast-forward update refused (needs force access to this ref)"},
		{"rewind with force", []string{"-f", first + ":refs/heads/bob/x"}, true, ""},
		{"delete without force", []string{":main"}, false, "gitserver: refs/heads/main: delete refused (needs force access to this ref)"},
		{"create without a rule", []string{"HEAD:refs/heads/other"}, false, "gitserver: refs/heads/other: create refused (needs write access to this ref)"},
		{"one refusal refuses all", []string{"HEAD:refs/heads/bob/y", "HEAD:refs/heads/other"}, false, "gitserver: push refused: 1 of 2 ref updates not allowed"},
		{"delete with force", []string{":refs/heads/bob/x"}, true, ""},
	} {
		out, err := s.push(tt.args...)
		if (err == nil) != tt.ok || !strings.Contains(out, tt.msg) {
			t.Errorf("%s: push %v: %v, want ok=%v and %q:\n%s", tt.name, tt.args, err, tt.ok, tt.msg, out)
		}
	}
	if got := s.srv("for-each-ref", "--format=%(refname)"); got != "refs/heads/main" {
		t.Errorf("refs after the pushes:\n%s", got)
	}
	if log := s.log(); !strings.Contains(log, "ref=\"refs/heads/main\" op=\"non-fast-forward update\" decision=deny") {
		t.Errorf("log lacks the refusal:\n%s", log)
	}
}

// TestPreReceiveChains checks that the repository's own pre-receive runs
// after the check, with the same input, and only when the check allows.
func TestPreReceiveChains(t *testing.T) {
	s := newSite(t, "bob", checkPolicy)
	out := filepath.Join(t.TempDir(), "ran")
	s.writeHook("pre-receive", "#!/bin/sh\ncat >> "+out+"\necho repo pre-receive says no >&2\nexit 1\n")
	old, next := s.git(s.work, "rev-parse", "HEAD"), s.commit("second")
	if msg, err := s.push("HEAD:refs/heads/other"); err == nil || strings.Contains(msg, "repo pre-receive") {
		t.Fatalf("push refused by the check: %v\n%s", err, msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the repository's pre-receive ran after the check refused")
	}
	msg, err := s.push("HEAD:main")
	if err == nil || !strings.Contains(msg, "repo pre-receive says no") {
		t.Fatalf("push allowed by the check, refused by the repository's hook: %v\n%s", err, msg)
	}
	got, _ := os.ReadFile(out)
	if want := old + " " + next + " refs/heads/main\n"; string(got) != want {
		t.Errorf("the repository's pre-receive got %q, want %q", got, want)
	}
	if main := s.srv("rev-parse", "main"); main != old {
		t.Errorf("main moved to %s although the repository's hook refused", main)
	}
}

func TestPreReceiveFailsClosed(t *testing.T) {
	r := newRepo(t)
	old := r.git(r.work, "rev-parse", "HEAD")
	for _, tt := range []struct {
		name, stdin string
		env         []string
	}{
		{"no user", old + " " + old + " refs/heads/main\n", []string{"GITSERVER_REPO=team/app"}},
		{"bad input", "nonsense\n", []string{"GITSERVER_USER=bob", "GITSERVER_REPO=team/app"}},
	} {
		var stderr strings.Builder
		p := &Push{Env: append(tt.env, "GIT_DIR="+r.dir), Stdin: []byte(tt.stdin), Stdout: &stderr, Stderr: &stderr, Log: hclog.NewNullLogger()}
		if code := p.Check(context.Background(), filedriver.New(shim.DriverConfig{}), "/usr/bin/git"); code == 0 || strings.TrimSpace(stderr.String()) != shim.MsgUnavailable {
			t.Errorf("%s: Check = %d, %q; want 1, %q", tt.name, code, stderr.String(), shim.MsgUnavailable)
		}
	}
}

// symrefPolicy gives bob write on main and on the name "open" only, and
// force on his own branches.
const symrefPolicy = `
[[rule]]
repos  = ["team/app"]
users  = ["bob"]
refs   = ["main", "open"]
access = "write"

[[rule]]
repos      = ["team/app"]
users      = ["bob"]
refs_regex = ["^refs/heads/bob/.+$"]
access     = "force"
`

// TestPreReceiveSymrefs pushes to symbolic refs: each update is decided
// on the ref git changes, and symbolic refs that lead nowhere sane are
// refused.
func TestPreReceiveSymrefs(t *testing.T) {
	s := newSite(t, "bob", symrefPolicy)
	refs := filepath.Join(s.dir, "refs", "heads")
	write := func(name, body string) func() {
		return func() {
			if err := os.WriteFile(filepath.Join(refs, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	symref := func(name, target string) func() { return func() { s.srv("symbolic-ref", name, target) } }
	outside := filepath.Join(t.TempDir(), "ref")
	for _, tt := range []struct {
		name  string
		setup func()
		args  []string
		moves string // the ref that must hold the pushed commit after an allowed push
		msg   string // "" for an allowed push, else in its output
	}{
		{"alias of an allowed target", symref("refs/heads/master", "refs/heads/main"),
			[]string{"HEAD:master"}, "main", ""},
		{"alias and target together", nil, []string{"HEAD:master", "HEAD:main"}, "main", ""},
		{"alias whose target is refused", func() { s.srv("branch", "protected", "main"); symref("refs/heads/open", "refs/heads/protected")() },
			[]string{"HEAD:open"}, "", "gitserver: refs/heads/open -> refs/heads/protected: update refused (needs write access to this ref)"},
		{"delete through an alias", nil, []string{":master"}, "",
			"gitserver: refs/heads/master -> refs/heads/main: delete refused (needs force access to this ref)"},
		{"alias to a missing ref", symref("refs/heads/ghost", "refs/heads/bob/nothere"),
			[]string{"HEAD:refs/heads/ghost"}, "", "gitserver: refs/heads/ghost -> refs/heads/bob/nothere: symbolic ref to a ref that does not exist; refused"},
		{"alias outside refs/", write("out", "ref: HEAD\n"),
			[]string{"HEAD:refs/heads/out"}, "", "gitserver: refs/heads/out: symbolic ref to a name outside refs/; refused"},
		{"alias to a path", write("out", "ref: /etc/passwd\n"),
			[]string{"HEAD:refs/heads/out"}, "", "gitserver: refs/heads/out: symbolic ref to a name outside refs/; refused"},
		{"chain of four", func() {
			for _, l := range [][2]string{{"c1", "c2"}, {"c2", "c3"}, {"c3", "c4"}, {"c4", "main"}} {
				symref("refs/heads/"+l[0], "refs/heads/"+l[1])()
			}
		}, []string{"HEAD:refs/heads/c1"}, "main", ""},
		{"chain of five", symref("refs/heads/c0", "refs/heads/c1"),
			[]string{"HEAD:refs/heads/c0"}, "", "gitserver: refs/heads/c0 -> refs/heads/main: chain of more than 4 symbolic refs; refused"},
		{"symlink out of the repository", func() {
			os.WriteFile(outside, []byte("ref: refs/heads/main\n"), 0o644)
			os.Symlink(outside, filepath.Join(refs, "escape"))
		}, []string{"HEAD:refs/heads/escape"}, "", "gitserver: refs/heads/escape: cannot resolve this ref; refused"},
	} {
		if tt.setup != nil {
			tt.setup()
		}
		next := s.commit(tt.name)
		before := s.srv("for-each-ref")
		out, err := s.push(tt.args...)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: push %v refused: %v\n%s", tt.name, tt.args, err, out)
		case tt.msg == "":
			if got := s.srv("rev-parse", tt.moves); got != next {
				t.Errorf("%s: %s is at %s, want the pushed %s", tt.name, tt.moves, got, next)
			}
		case err == nil || !strings.Contains(out, tt.msg):
			t.Errorf("%s: push %v: %v, want refused with %q:\n%s", tt.name, tt.args, err, tt.msg, out)
		case s.srv("for-each-ref") != before:
			t.Errorf("%s: refs changed by a refused push", tt.name)
		}
	}
	log := s.log()
	for _, want := range []string{
		"ref=\"refs/heads/master\" op=update decision=allow rule=" + filepath.Join(s.data, "policy.toml") + ":2 target=\"refs/heads/main\"",
		`ref="refs/heads/out" decision=deny why="symbolic ref to a name outside refs/"`,
		`symbolic ref to a bad name: hook=pre-receive key="` + testKey(t, 1).Fingerprint + `" repo=team/app user=bob ref="refs/heads/out" symref="refs/heads/out" to="\"/etc/passwd\""`,
		"ref=\"refs/heads/escape\" decision=deny why=\"cannot resolve this ref\"",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// TestSymrefReaders reads the same refs with the files reader and with
// git, which repositories with another ref backend use: they agree.
func TestSymrefReaders(t *testing.T) {
	r := newRepo(t)
	r.srv("symbolic-ref", "refs/heads/master", "refs/heads/main")
	r.srv("symbolic-ref", "refs/heads/a", "refs/heads/master")
	r.srv("symbolic-ref", "refs/heads/ghost", "refs/heads/nothere")
	os.WriteFile(filepath.Join(r.dir, "refs/heads/out"), []byte("ref: HEAD\n"), 0o644)
	r.srv("pack-refs", "--all")
	// git's old form of a symbolic ref, and a symlink that git follows
	// to read the file it names (master, loose: symbolic refs are never
	// packed).
	os.Symlink("refs/heads/main", filepath.Join(r.dir, "refs/heads/link"))
	os.Symlink("master", filepath.Join(r.dir, "refs/heads/follow"))
	root, err := os.OpenRoot(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	p := &Push{Env: append(r.env, "GIT_DIR="+r.dir)}
	readers := map[string]readSymref{"files": rootSymref(root), "git": p.gitSymref("git")}
	for _, tt := range []struct {
		ref, target, refusal string
	}{
		{"refs/heads/main", "refs/heads/main", ""},
		{"refs/heads/master", "refs/heads/main", ""},
		{"refs/heads/a", "refs/heads/main", ""},
		{"refs/heads/ghost", "refs/heads/nothere", ""},
		{"refs/heads/nothere", "refs/heads/nothere", ""},
		{"refs/heads/out", "refs/heads/out", "symbolic ref to a name outside refs/"},
		{"refs/heads/link", "refs/heads/main", ""},
		{"refs/heads/follow", "refs/heads/main", ""},
	} {
		for name, read := range readers {
			target, refusal, _, err := refTarget(read, tt.ref)
			if err != nil || target != tt.target || refusal != tt.refusal {
				t.Errorf("%s: refTarget(%s) = %q, %q, %v; want %q, %q", name, tt.ref, target, refusal, err, tt.target, tt.refusal)
			}
		}
	}
}

func TestFilesBackend(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(dir string)
		want  bool
	}{
		{"plain", func(string) {}, true},
		{"no config", func(dir string) { os.Remove(filepath.Join(dir, "config")) }, true},
		{"reftable", func(dir string) { os.Mkdir(filepath.Join(dir, "reftable"), 0o755) }, false},
		{"refStorage", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config"), []byte("[extensions]\n\trefStorage = reftable\n"), 0o644)
		}, false},
		{"linked worktree", func(dir string) { os.WriteFile(filepath.Join(dir, "commondir"), []byte("../..\n"), 0o644) }, false},
		{"huge config", func(dir string) {
			os.WriteFile(filepath.Join(dir, "config"), []byte(strings.Repeat("#\n", maxConfig)), 0o644)
		}, false},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "config"), []byte("[core]\n\tbare = true\n"), 0o644)
		tt.setup(dir)
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := filesBackend(root); got != tt.want || err != nil {
			t.Errorf("%s: filesBackend = %v, %v; want %v", tt.name, got, err, tt.want)
		}
		root.Close()
	}
}

// tagPolicy gives bob write on tags and main, carol force on tags.
const tagPolicy = `
[[rule]]
repos  = ["team/app"]
users  = ["bob"]
refs   = ["main", "refs/tags/**"]
access = "write"

[[rule]]
repos  = ["team/app"]
users  = ["carol"]
refs   = ["refs/tags/**"]
access = "force"
`

// TestPreReceiveTags: creating a tag needs write; any change to an
// existing one, a fast-forward too, needs force.
func TestPreReceiveTags(t *testing.T) {
	sites := map[string]*site{}
	for _, user := range []string{"bob", "carol"} {
		s := newSite(t, user, tagPolicy)
		s.git(s.work, "tag", "v1")
		s.git(s.work, "tag", "-a", "-m", "a1", "a1")
		if out, err := s.push("v1", "a1"); err != nil { // creating tags: write is enough
			t.Fatalf("%s: push of new tags: %v\n%s", user, err, out)
		}
		s.commit("second") // v1..HEAD is a fast-forward
		s.git(s.work, "tag", "-a", "-m", "a2", "a2")
		sites[user] = s
	}
	for _, tt := range []struct {
		user string
		args []string
		msg  string // "" for allowed
	}{
		{"bob", []string{"HEAD:refs/tags/v2"}, ""},
		{"bob", []string{"-f", "HEAD:refs/tags/v1"}, "gitserver: refs/tags/v1: tag move refused (needs force access to this ref)"},
		{"bob", []string{"-f", "a2:refs/tags/a1"}, "gitserver: refs/tags/a1: tag move refused (needs force access to this ref)"},
		{"bob", []string{":refs/tags/v1"}, "gitserver: refs/tags/v1: delete refused (needs force access to this ref)"},
		{"carol", []string{"HEAD:refs/tags/v2"}, ""},
		{"carol", []string{"-f", "HEAD:refs/tags/v1"}, ""},
		{"carol", []string{"-f", "a2:refs/tags/a1"}, ""},
		{"carol", []string{":refs/tags/v1"}, ""},
	} {
		s := sites[tt.user]
		before := s.srv("for-each-ref")
		out, err := s.push(tt.args...)
		switch {
		case tt.msg == "" && err != nil:
			t.Errorf("%s: push %v refused: %v\n%s", tt.user, tt.args, err, out)
		case tt.msg != "" && (err == nil || !strings.Contains(out, tt.msg)):
			t.Errorf("%s: push %v: %v, want refused with %q:\n%s", tt.user, tt.args, err, tt.msg, out)
		case tt.msg != "" && s.srv("for-each-ref") != before:
			t.Errorf("%s: push %v: refs changed by a refused push", tt.user, tt.args)
		}
		// Back to v1 and a1 as they were, for the next case.
		for _, tag := range []string{"v1", "a1"} {
			s.srv("update-ref", "refs/tags/"+tag, s.git(s.work, "rev-parse", "refs/tags/"+tag))
		}
		s.srv("update-ref", "-d", "refs/tags/v2")
	}
	if log := sites["bob"].log(); !strings.Contains(log, "ref=\"refs/tags/v1\" op=\"tag move\" decision=deny") {
		t.Errorf("log lacks the refused tag move:\n%s", log)
	}
}

// TestPreReceiveIgnoresReplaceRefs: a replace ref (refs/replace/X) makes
// git read another commit for X, with other parents. A user with write
// on every ref but no force must not turn a rewind into a fast-forward
// by pushing one first.
func TestPreReceiveIgnoresReplaceRefs(t *testing.T) {
	s := newSite(t, "bob", "[[rule]]\nrepos = [\"team/app\"]\nusers = [\"bob\"]\naccess = \"write\"\n")
	main := s.git(s.work, "rev-parse", "HEAD")
	tree := s.git(s.work, "rev-parse", "HEAD^{tree}")
	orphan := s.git(s.work, "commit-tree", "-m", "history rewritten", tree)
	fake := s.git(s.work, "commit-tree", "-p", main, "-m", "history rewritten", tree)
	if out, err := s.push(fake + ":refs/replace/" + orphan); err != nil {
		t.Fatalf("push of a replace ref (a create: write is enough): %v\n%s", err, out)
	}
	out, err := s.push("-f", orphan+":main")
	if err == nil || !strings.Contains(out, "gitserver: refs/heads/main: non-fast-forward update refused") {
		t.Fatalf("a rewind dressed as a fast-forward by a replace ref: %v\n%s", err, out)
	}
	if got := s.srv("rev-parse", "main"); got != main {
		t.Fatalf("main rewound to %s", got)
	}
}

// TestIsParent reads commits as git wrote them: loose in a push's
// quarantine or the repository, or packed (not known: merge-base then
// decides).
func TestIsParent(t *testing.T) {
	r := newRepo(t)
	first := r.git(r.work, "rev-parse", "HEAD")
	second := r.commit("second")
	third := r.commit("third")
	r.git(r.work, "checkout", "-q", "-b", "side", first)
	side := r.commit("side")
	r.git(r.work, "checkout", "-q", "main")
	r.git(r.work, "merge", "-q", "-s", "ours", "--no-edit", "side")
	merge := r.git(r.work, "rev-parse", "HEAD")
	r.git(r.work, "push", "-q", r.dir, "main", "side")
	p := &Push{Env: []string{"GIT_DIR=" + r.dir}}
	for _, tt := range []struct {
		old, new string
		want     bool
	}{
		{first, second, true},
		{second, third, true},
		{first, third, false}, // an ancestor, but not a parent: merge-base's
		{third, merge, true},
		{side, merge, true}, // the second parent
		{third, second, false},
		{first, r.git(r.work, "rev-parse", "HEAD^{tree}"), false}, // not a commit
	} {
		if got := p.isParent(tt.old, tt.new); got != tt.want {
			t.Errorf("isParent(%.7s, %.7s) = %v, want %v", tt.old, tt.new, got, tt.want)
		}
	}
	// In a quarantine: the objects' directory is elsewhere, the
	// repository's objects an alternate.
	q := &Push{Env: []string{"GIT_DIR=/nonexistent", "GIT_OBJECT_DIRECTORY=/nonexistent/q", "GIT_ALTERNATE_OBJECT_DIRECTORIES=/nonexistent/a:" + filepath.Join(r.dir, "objects")}}
	if !q.isParent(first, second) {
		t.Error("isParent did not look in the alternate object directory")
	}
	r.srv("gc", "-q", "--prune=now")
	if p.isParent(first, second) {
		t.Error("isParent found a packed commit")
	}
}

// TestClassifyWithoutGit: a one-commit fast-forward is classified without
// starting git; anything else needs it.
func TestClassifyWithoutGit(t *testing.T) {
	r := newRepo(t)
	first := r.git(r.work, "rev-parse", "HEAD")
	second := r.commit("second")
	third := r.commit("third")
	r.git(r.work, "push", "-q", r.dir, "main")
	p := &Push{Env: []string{"GIT_DIR=" + r.dir}}
	const noGit = "/nonexistent/git"
	if op, err := p.classify(noGit, "refs/heads/main", shim.RefUpdate{Old: second, New: third}); op != shim.RefFastForward || err != nil {
		t.Errorf("classify(parent) = %v, %v; want a fast-forward", op, err)
	}
	if _, err := p.classify(noGit, "refs/heads/main", shim.RefUpdate{Old: first, New: third}); err == nil {
		t.Error("classify(grandparent) did not need git")
	}
	if op, err := p.classify("git", "refs/heads/main", shim.RefUpdate{Old: first, New: third}); op != shim.RefFastForward || err != nil {
		t.Errorf("classify(grandparent) with git = %v, %v; want a fast-forward", op, err)
	}
}
