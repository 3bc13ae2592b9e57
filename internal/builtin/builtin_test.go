package builtin

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/filedriver"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// Test-only keys: never use them anywhere else.
const (
	alicePub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAGRKgPSZQQ3u4mGRtJfRESU72NQIHQd8D8RVbN9eZVk alice@test-only"
	bobPub   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFS1HzihpNZA/OPVxXva6y9cDyrk6/zhxJTH/hqKPwRX bob@test-only"
)

const testPolicy = `
[[rule]]
repos  = ["**"]
users  = ["root"]
access = "admin"

[[rule]]
repos  = ["users/{user}/**"]
users  = ["@all"]
access = "create"

[[rule]]
repos  = ["team/*"]
users  = ["alice"]
access = "write"

[[rule]]
repos  = ["team/*", "public/*"]
users  = ["@all"]
access = "read"
`

type fixture struct {
	t     *testing.T
	drv   *filedriver.Driver
	root  string
	store *keys.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newPolicyFixture(t, testPolicy)
}

// newPolicyFixture is newFixture with the policy text policyText.
func newPolicyFixture(t *testing.T, policyText string) *fixture {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "repos")
	pol := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(pol, []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"team/app", "team/lib", "public/www", "secret/x", "users/bob/y"} {
		if out, err := exec.Command("git", "init", "-q", "--bare", filepath.Join(root, name+".git")).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	f := &fixture{t: t, root: root, drv: filedriver.New(shim.DriverConfig{Repos: root, DataDir: dir, Policy: pol})}
	f.store = f.drv.KeyStore()
	f.add("alice", alicePub)
	f.add("bob", bobPub)
	return f
}

func (f *fixture) add(user, line string) keys.Key {
	f.t.Helper()
	k, err := sshkey.ParseLine(line)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.Add([]keys.Record{{User: user, Key: k}}); err != nil {
		f.t.Fatal(err)
	}
	return k
}

// run runs command as user and returns stdout, stderr and the exit code.
func (f *fixture) run(user, command, stdin string) (string, string, int) {
	f.t.Helper()
	b, err := shim.ParseBuiltin(command)
	if err != nil {
		f.t.Fatalf("ParseBuiltin(%q): %v", command, err)
	}
	var out, errb bytes.Buffer
	code, _ := Run(context.Background(), Env{Driver: f.drv, Root: f.root, User: user, Key: "SHA256:k",
		Cmd: b, Stdio: shim.Stdio{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}})
	return out.String(), errb.String(), code
}

func newKeyLine(t *testing.T, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment
}

func TestInfo(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		user, cmd string
		want      []string
		not       []string
	}{
		{"alice", "info", []string{"hello alice, this is gitserver", " R W    \tteam/app", " R      \tpublic/www", "       C\tusers/{user}/**"}, []string{"secret/x", "users/bob/y"}},
		{"bob", "info", []string{" R      \tteam/app", " R W F  \tusers/bob/y"}, []string{"secret"}},
		{"alice", "info team/*", []string{"team/app", "team/lib"}, []string{"public", "users/{user}"}},
		{"root", "info **", []string{" R W F  \tsecret/x"}, nil},
	} {
		out, errOut, code := f.run(tt.user, tt.cmd, "")
		if code != 0 {
			t.Fatalf("%s %q: exit %d: %s", tt.user, tt.cmd, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s %q: output lacks %q:\n%s", tt.user, tt.cmd, w, out)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(out, w) {
				t.Errorf("%s %q: output has %q:\n%s", tt.user, tt.cmd, w, out)
			}
		}
	}
}

func TestHelpWhoami(t *testing.T) {
	f := newFixture(t)
	if out, _, code := f.run("alice", "help", ""); code != 0 || !strings.Contains(out, "keys add") {
		t.Errorf("help = %d %q", code, out)
	}
	if out, _, code := f.run("alice", "whoami", ""); code != 0 || out != "user alice\nkey  SHA256:k\n" {
		t.Errorf("whoami = %d %q", code, out)
	}
	var out bytes.Buffer
	b, _ := shim.ParseBuiltin("whoami")
	Run(context.Background(), Env{Driver: f.drv, Root: f.root, User: "alice", Key: "SHA256:k", Client: "192.0.2.7:5555",
		Cmd: b, Stdio: shim.Stdio{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}})
	if out.String() != "user alice\nkey  SHA256:k\nfrom 192.0.2.7:5555\n" {
		t.Errorf("whoami with a client address = %q", out.String())
	}
}

func TestKeysSelfService(t *testing.T) {
	f := newFixture(t)
	line := newKeyLine(t, "laptop")
	k, _ := sshkey.ParseLine(line)
	out, errOut, code := f.run("alice", "keys add", line+"\n")
	if code != 0 || !strings.Contains(out, "added "+k.Fingerprint) {
		t.Fatalf("keys add = %d %q %q", code, out, errOut)
	}
	if out, _, _ := f.run("alice", "keys list", ""); !strings.Contains(out, k.Fingerprint) || !strings.Contains(out, "laptop") || strings.Count(out, "\n") != 2 {
		t.Errorf("keys list = %q", out)
	}
	// All or nothing: one bad line adds nothing.
	other := newKeyLine(t, "x")
	if _, errOut, code := f.run("alice", "keys add", other+"\nnot a key\n"); code == 0 || !strings.Contains(errOut, "stdin:line 2") {
		t.Errorf("keys add with a bad line = %d %q", code, errOut)
	}
	// Bob's key cannot be added by alice, and the message names nobody.
	if _, errOut, code := f.run("alice", "keys add", bobPub+"\n"); code == 0 || strings.Contains(errOut, "bob") {
		t.Errorf("keys add of bob's key = %d %q", code, errOut)
	}
	bob, _ := sshkey.ParseLine(bobPub)
	if _, errOut, code := f.run("alice", "keys remove "+bob.Fingerprint, ""); code == 0 || !strings.Contains(errOut, "no such key") {
		t.Errorf("alice removing bob's key = %d %q", code, errOut)
	}
	if _, errOut, code := f.run("bob", "keys remove "+bob.Fingerprint, ""); code == 0 || !strings.Contains(errOut, "last key") {
		t.Errorf("bob removing his last key = %d %q", code, errOut)
	}
	if out, errOut, code := f.run("alice", "keys remove "+k.Fingerprint, ""); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("alice removing her key = %d %q %q", code, out, errOut)
	}
	if _, err := f.store.Lookup(bob.Fingerprint); err != nil {
		t.Errorf("bob's key is gone: %v", err)
	}
}

// TestKeysAddTooLarge: "keys add" reads at most maxKeysInput bytes of
// stdin. Input of exactly that size is read whole; one byte more is
// refused with a message naming the limit, and no key is added, not even
// the ones that came before the limit.
func TestKeysAddTooLarge(t *testing.T) {
	f := newFixture(t)
	line := newKeyLine(t, "big")
	k, _ := sshkey.ParseLine(line)
	pad := func(n int) string { // line, then comment lines up to n bytes
		b := line + "\n"
		for len(b) < n {
			b += strings.Repeat("#", min(n-len(b), 100)-1) + "\n"
		}
		return b
	}
	if out, errOut, code := f.run("alice", "keys add", pad(maxKeysInput)); code != 0 || !strings.Contains(out, "added "+k.Fingerprint) {
		t.Fatalf("keys add of %d bytes = %d %q %q; want the key added", maxKeysInput, code, out, errOut)
	}
	if _, errOut, code := f.run("alice", "keys remove "+k.Fingerprint, ""); code != 0 {
		t.Fatalf("keys remove = %d %q", code, errOut)
	}
	_, errOut, code := f.run("alice", "keys add", pad(maxKeysInput+1))
	if want := "gitserver: more than 65536 bytes on stdin; no key was added\n"; code == 0 || errOut != want {
		t.Errorf("keys add of %d bytes = %d %q; want %q", maxKeysInput+1, code, errOut, want)
	}
	if _, err := f.store.Lookup(k.Fingerprint); err == nil {
		t.Errorf("keys add over the limit added %s", k.Fingerprint)
	}
}

func TestKeysOtherUser(t *testing.T) {
	f := newFixture(t)
	if _, errOut, code := f.run("alice", "keys list --user bob", ""); code == 0 || errOut != MsgNotAdmin+"\n" {
		t.Errorf("non-admin keys list --user bob = %d %q", code, errOut)
	}
	if out, _, code := f.run("alice", "keys list --user alice", ""); code != 0 || !strings.Contains(out, "SHA256:") {
		t.Errorf("keys list --user self = %d %q", code, out)
	}
	f.add("root", newKeyLine(t, "root"))
	if out, _, code := f.run("root", "keys list --user bob", ""); code != 0 || !strings.Contains(out, "SHA256:mS+dKs0rUEd1LoLULONshy/nSUXLr/znzJ94bSPA+s8") {
		t.Errorf("admin keys list --user bob = %d %q", code, out)
	}
	bob, _ := sshkey.ParseLine(bobPub)
	if _, errOut, code := f.run("root", "keys remove --user bob "+bob.Fingerprint, ""); code != 0 {
		t.Errorf("admin removing bob's last key = %d %q", code, errOut)
	}
}

// noBackend is a driver without a policy or key store.
type noBackend struct{ shim.Driver }

func TestUnsupportedDriver(t *testing.T) {
	for _, cmd := range []string{"info", "keys list", "perms team/app"} {
		b, _ := shim.ParseBuiltin(cmd)
		var out, errb bytes.Buffer
		code, err := Run(context.Background(), Env{Driver: noBackend{}, User: "alice", Cmd: b, Stdio: shim.Stdio{Stdout: &out, Stderr: &errb}})
		if code == 0 || err == nil || errb.String() != MsgUnsupported+"\n" {
			t.Errorf("%s with a driver without Backend = %d %v %q", cmd, code, err, errb.String())
		}
	}
}

// TestSetHead: an admin points HEAD at an existing branch; nobody else
// may, and a missing repository or branch gets a short answer.
func TestSetHead(t *testing.T) {
	f := newFixture(t)
	repo := filepath.Join(f.root, "team/app.git")
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"--git-dir=" + repo}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commit := git("-c", "user.name=t", "-c", "user.email=t@x", "commit-tree", "-m", "x", "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
	git("update-ref", "refs/heads/dev", commit)
	for _, tt := range []struct {
		user, cmd string
		code      int
		stderr    string
	}{
		{"alice", "set-head team/app dev", 1, MsgSetHeadNotAdmin},
		{"root", "set-head team/app nothere", 1, "no such branch"},
		{"root", "set-head team/missing dev", 1, shim.MsgDenied},
		{"root", "set-head team/app dev", 0, ""},
	} {
		_, stderr, code := f.run(tt.user, tt.cmd, "")
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: %s = %d, %q; want %d, %q", tt.user, tt.cmd, code, stderr, tt.code, tt.stderr)
		}
	}
	if head := git("symbolic-ref", "HEAD"); head != "refs/heads/dev" {
		t.Errorf("HEAD = %s, want refs/heads/dev", head)
	}
}
