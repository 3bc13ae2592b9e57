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
	if _, err := st.Add([]keys.Record{{User: user, Key: testKey(t, 1)}}); err != nil {
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
	s.env = append(s.env, asHookVar+"=1", "GITSERVER_USER="+user, "GITSERVER_REPO=team/app", "GITSERVER_KEY=SHA256:test")
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
// bytes, in the form keys.Offered accepts. Never a real key; never use it
// anywhere else.
func testKey(t *testing.T, i byte) keys.Key {
	t.Helper()
	var blob []byte
	for _, f := range [][]byte{[]byte("ssh-ed25519"), []byte(strings.Repeat(string(rune('A'+i)), 32))} {
		blob = binary.BigEndian.AppendUint32(blob, uint32(len(f)))
		blob = append(blob, f...)
	}
	k, err := keys.Offered("ssh-ed25519", base64.StdEncoding.EncodeToString(blob))
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
	if log := s.log(); !strings.Contains(log, "ref=refs/heads/main op=\"non-fast-forward update\" decision=deny") {
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
