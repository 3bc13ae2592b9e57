package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// readmeSubs turn README.md's install block, written for a real host, into
// one that runs on a private tree ({T}), for a test system user ({U}),
// against a private sshd ({SSHD}, {SSHD_CONFIG}). They are exact strings,
// applied in this order, and each must match at least once: when the
// README changes, the test says which one no longer does. Every gitserver
// command finds the private config through GITSERVER_CONFIG, as the
// README documents, rather than by a substitution.
var readmeSubs = []struct{ old, new, why string }{
	// The ssh user is a test system user, its home the private data directory;
	// the user is removed when the test ends.
	{"--home-dir /var/lib/gitserver git ", "--home-dir {T}/var/lib/gitserver {U} ", "useradd: the test's user, its home the data directory"},
	{"usermod --password '*' git ", "usermod --password '*' {U} ", "usermod: the test's user"},
	// init's defaults are the system paths; the private tree instead.
	{"gitserver init ", "gitserver init --ssh-user {U} --repos {T}/srv/git --data-dir {T}/var/lib/gitserver ", "init: the test's user and tree"},
	// init writes the policy beside the config.
	{"/etc/gitserver/policy.toml", "{T}/etc/gitserver/policy.toml", "$EDITOR: the private policy"},
	// The private sshd includes {T}/sshd_config.d/*.conf, as Debian's
	// sshd_config includes /etc/ssh/sshd_config.d/*.conf.
	{"/etc/ssh/sshd_config.d/gitserver.conf", "{T}/sshd_config.d/gitserver.conf", "sshd-config: the private sshd's drop-in"},
	// The private sshd's config is checked; the test starts that sshd
	// right after this line instead of reloading the system's.
	{"sshd -t && systemctl reload ssh", "{SSHD} -t -f {SSHD_CONFIG}", "sshd -t: the private sshd"},
	// check reads the effective config of the private sshd, not the
	// system's (which sshd_config it reads is all that differs).
	{"gitserver check ", "gitserver check --sshd-config {SSHD_CONFIG} ", "check: the private sshd's config"},
}

// readmeUser is the test's ssh user, created by the README's useradd.
const readmeUser = "gitserver-readme"

// TestREADMEInstall runs README.md's "Install behind OpenSSH" block as
// root, line by line, on a private tree and sshd (readmeSubs), then does
// what the README says comes next: alice clones team/app, pushes a commit
// and sees it in a fresh clone.
func TestREADMEInstall(t *testing.T) {
	sshdPath := sshdtest.Need(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block, next := installBlock(t, string(readme))

	tree := t.TempDir()
	for _, d := range []string{filepath.Dir(tree), tree} {
		if err := os.Chmod(d, 0o755); err != nil { // the ssh user reaches its home and the repos
			t.Fatal(err)
		}
	}
	work := filepath.Join(tree, "work")
	for _, d := range []string{work, filepath.Join(tree, "sshd_config.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := sshdtest.Configure(t, "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nInclude "+tree+"/sshd_config.d/*.conf\n")
	bin := sshdtest.InstallBinary(t, buildBinary(t), "gitserver")
	aliceKey := filepath.Join(work, "alice")
	sshdtest.Keygen(t, aliceKey) // alice.pub, where the README's keys add finds it
	editor := filepath.Join(tree, "editor")
	writeFile(t, editor, "#!/bin/sh\n# the admin's edit: alice becomes an admin\ngrep -qx 'admins = \\[\\]' \"$1\" || { echo \"editor: no 'admins = []' in $1\" >&2; exit 1; }\nsed -i 's/^admins = \\[\\]$/admins = [\"alice\"]/' \"$1\"\n")
	if err := os.Chmod(editor, 0o755); err != nil {
		t.Fatal(err)
	}
	removeUserAtEnd(t, readmeUser)

	vars := strings.NewReplacer("{T}", tree, "{U}", readmeUser, "{SSHD}", sshdPath, "{SSHD_CONFIG}", srv.Config)
	script := substitute(t, block, vars)
	env := []string{"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"), "HOME=" + work, "EDITOR=" + editor,
		"GITSERVER_CONFIG=" + filepath.Join(tree, "etc/gitserver/config.toml")}
	for i, line := range script {
		if strings.TrimSpace(line) == "" {
			continue
		}
		cmd := exec.Command("sh", "-ec", line)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README install line %q\nran as %q: %v\n%s\nsshd log:\n%s", block[i], line, err, out, srv.Log())
		}
		t.Logf("$ %s\n%s", line, out)
		switch orig := block[i]; {
		case strings.HasPrefix(orig, "gitserver access alice team/app admin"):
			if !strings.Contains(string(out), "allow") {
				t.Errorf("%q printed %q, want allow\nsshd log:\n%s", orig, out, srv.Log())
			}
		case strings.HasPrefix(orig, "gitserver check"):
			if !strings.Contains(string(out), "note: sshd runs gitserver for user "+readmeUser+" through AuthorizedKeysCommand") {
				t.Errorf("%q did not find sshd's config right:\n%s", orig, out)
			}
		case strings.Contains(orig, "systemctl reload ssh"):
			srv.Run(t)
		}
	}

	alice := &person{t: t, name: "alice", home: filepath.Join(tree, "home-alice")}
	if err := os.MkdirAll(alice.home, 0o700); err != nil {
		t.Fatal(err)
	}
	alice.sshCfg = srv.ClientConfig(t, alice.home, aliceKey, readmeUser)
	readmePush(t, alice, srv, strings.Fields(strings.ReplaceAll(next, "git@host:", readmeUser+"@gitsrv:")))
}

// readmePush runs clone (the README's 'git clone git@host:team/app.git',
// for the test's user and sshd) as alice, commits, pushes, and clones again
// to find the commit.
func readmePush(t *testing.T, alice *person, srv *sshdtest.Server, clone []string) {
	t.Helper()
	must := func(dir string, args ...string) {
		t.Helper()
		out, err := alice.git(dir, args...)
		if err != nil {
			t.Fatalf("alice: git %s: %v\n%s\nsshd log:\n%s", strings.Join(args, " "), err, out, srv.Log())
		}
		// sshd tells the client when the ssh user's home is missing.
		if strings.Contains(out, "Could not chdir") {
			t.Errorf("alice: git %s printed sshd's complaint about the ssh user's home:\n%s\nsshd log:\n%s", strings.Join(args, " "), out, srv.Log())
		}
	}
	must(alice.home, append(clone[1:], "first")...)
	first := filepath.Join(alice.home, "first")
	writeFile(t, filepath.Join(first, "a.txt"), "hello from alice\n")
	must(first, "add", "a.txt")
	must(first, "commit", "-q", "-m", "add a.txt")
	must(first, "push", "-q", "origin", "HEAD")
	must(alice.home, append(clone[1:], "second")...)
	if got, err := os.ReadFile(filepath.Join(alice.home, "second", "a.txt")); err != nil || string(got) != "hello from alice\n" {
		t.Fatalf("a fresh clone has a.txt = %q, %v; want alice's commit\nsshd log:\n%s", got, err, srv.Log())
	}
}

// installBlock finds, in README.md's "## Install behind OpenSSH" section,
// the ```sh block that runs 'gitserver init', and returns its lines and
// the clone command the README gives next ('git clone git@host:...').
func installBlock(t *testing.T, readme string) (lines []string, clone string) {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Install behind OpenSSH\n")
	if !ok {
		t.Fatal(`README.md has no "## Install behind OpenSSH" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rest := section
	for {
		_, after, ok := strings.Cut(rest, "\n```sh\n")
		if !ok {
			t.Fatal("README.md's Install behind OpenSSH section has no ```sh block with 'gitserver init'")
		}
		body, tail, ok := strings.Cut(after, "\n```\n")
		if !ok {
			t.Fatal("README.md's Install behind OpenSSH section has an unclosed ```sh block")
		}
		if strings.Contains(body, "\ngitserver init") {
			_, c, ok := strings.Cut(tail, "`git clone git@host:")
			if !ok {
				t.Fatal("README.md's install block is no longer followed by `git clone git@host:...`")
			}
			c, _, _ = strings.Cut(c, "`")
			return strings.Split(body, "\n"), "git clone git@host:" + c
		}
		rest = tail
	}
}

// substitute applies readmeSubs to the block, line by line, failing if
// any of them matches nowhere.
func substitute(t *testing.T, block []string, vars *strings.Replacer) []string {
	t.Helper()
	out := append([]string(nil), block...)
	for _, s := range readmeSubs {
		n := 0
		for i := range out {
			n += strings.Count(out[i], s.old)
			out[i] = strings.ReplaceAll(out[i], s.old, s.new)
		}
		if n == 0 {
			t.Errorf("README.md's install block no longer contains %q (substitution for %s): update readmeSubs", s.old, s.why)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for i := range out {
		out[i] = vars.Replace(out[i])
	}
	return out
}

// removeUserAtEnd removes the system user name (and its group) when the
// test ends, if it exists then. A user of that name left by an earlier,
// killed run is removed first: the README's useradd must create it.
func removeUserAtEnd(t *testing.T, name string) {
	t.Helper()
	del := func() error {
		if _, err := user.Lookup(name); err != nil {
			return nil
		}
		if out, err := exec.Command("userdel", "--force", name).CombinedOutput(); err != nil {
			return fmt.Errorf("userdel --force %s: %v: %s", name, err, out)
		}
		return nil
	}
	if _, err := user.Lookup(name); err == nil {
		t.Logf("removing user %s, left by an earlier run", name)
	}
	if err := del(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := del(); err != nil {
			t.Error(err)
		}
	})
}
