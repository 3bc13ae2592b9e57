package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// sshIn is client.ssh with stdin.
func (c *client) sshIn(stdin string, command ...string) (string, error) {
	args := append([]string{"-F", c.sshCfg, "-T", "gitsrv"}, command...)
	cmd := exec.Command("ssh", args...)
	cmd.Env = []string{"HOME=" + c.home, "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBuiltinCommandsBehindSSHD(t *testing.T) {
	s := newServer(t)
	alice := s.newClient("alice", true)
	s.newClient("bob", true)
	s.admin("", "repos", "create", "public/hello")
	s.admin("", "repos", "create", "secret/x")

	out, err := alice.ssh(nil, "info")
	if err != nil || !strings.Contains(out, "hello alice, this is gitserver") || !strings.Contains(out, " R W    \tpublic/hello") {
		t.Fatalf("info: %v\n%s", err, out)
	}
	if out, err := alice.ssh(nil, "info", "public/*"); err != nil || strings.Contains(out, "secret/x") || !strings.Contains(out, "public/hello") {
		t.Errorf("info public/*: %v\n%s", err, out)
	}
	fp := strings.Fields(s.admin("", "keys", "list", "--user", "alice"))[6]
	if out, err := alice.ssh(nil, "whoami"); err != nil || !strings.HasPrefix(out, "user alice\nkey  "+fp+"\nfrom 127.0.0.1:") {
		t.Errorf("whoami: %v\n%q (want key %s)", err, out, fp)
	}
	if out, err := alice.ssh(nil, "help"); err != nil || !strings.Contains(out, "keys remove") {
		t.Errorf("help: %v\n%s", err, out)
	}

	// keys add, list, remove on one's own keys.
	laptop := sshdtest.Keygen(t, filepath.Join(alice.home, "id_laptop"))
	k, err := sshkey.ParseLine(laptop)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := alice.sshIn(laptop+"\n", "keys", "add"); err != nil || !strings.Contains(out, "added "+k.Fingerprint) {
		t.Fatalf("keys add: %v\n%s", err, out)
	}
	if out, err := alice.ssh(nil, "keys", "list"); err != nil || !strings.Contains(out, k.Fingerprint) || !strings.Contains(out, fp) {
		t.Errorf("keys list: %v\n%s", err, out)
	}
	if out, err := alice.ssh(nil, "keys", "remove", k.Fingerprint); err != nil || !strings.Contains(out, "removed "+k.Fingerprint) {
		t.Errorf("keys remove: %v\n%s", err, out)
	}
	if out := s.admin("", "keys", "list", "--user", "alice"); strings.Contains(out, k.Fingerprint) {
		t.Errorf("removed key still listed:\n%s", out)
	}
	if out, err := alice.ssh(nil, "keys", "remove", fp); err == nil || !strings.Contains(out, "last key") {
		t.Errorf("removing the last key: %v\n%s", err, out)
	}

	// A non-admin may not look at another user's keys.
	out, err = alice.ssh(nil, "keys", "list", "--user", "bob")
	if err == nil || !strings.Contains(out, "permission denied (--user needs admin access)") || strings.Contains(out, "SHA256:") {
		t.Errorf("keys list --user bob as alice: %v\n%s", err, out)
	}
	log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
	for _, want := range []string{`command="keys add" decision=allow`, `command="keys list" decision=deny`, `target_user="bob"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestServeBuiltinCommands(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	s.repo("public/hello")
	s.repo("secret/x")
	bob := s.client("bob", true)
	s.start()
	out, err := bob.ssh(nil, "info")
	if err != nil || !strings.Contains(out, "hello bob, this is gitserver") || !strings.Contains(out, " R      \tpublic/hello") || strings.Contains(out, "secret/x") {
		t.Fatalf("info: %v\n%s", err, out)
	}
	k, err := sshkey.ParseLine(bob.pub)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := bob.ssh(nil, "whoami"); err != nil || !strings.HasPrefix(out, "user bob\nkey  "+k.Fingerprint+"\nfrom 127.0.0.1:") {
		t.Errorf("whoami: %v\n%q", err, out)
	}
	if out, err := bob.ssh(nil, "keys", "list", "--user", "alice"); err == nil || !strings.Contains(out, "needs admin") {
		t.Errorf("keys list --user alice as bob: %v\n%s", err, out)
	}
	if !strings.Contains(s.log(), "command=whoami decision=allow") {
		t.Errorf("log lacks the whoami line:\n%s", s.log())
	}
}
