package e2e

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lfsPolicy: alice is an admin, dave may write team/assets, bob only read
// it; carol has no rule at all.
const lfsPolicy = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "write"

[[rule]]
repos  = ["team/assets"]
users  = ["dave"]
access = "write"

[[rule]]
repos  = ["team/assets"]
users  = ["bob"]
access = "read"
`

// lfsHost is a server under test as the LFS scenario sees it, behind
// sshd or serve.
type lfsHost struct {
	url    string // prefix of a repository URL, "root@gitsrv:"
	people map[string]*person
	pubs   map[string]string // public key lines, by person
	repos  string            // the repos root
	log    func() string
	admin  func(args ...string) string // a gitserver admin command's stdout
	// locks runs the lock scenario too. The protocol is the same through
	// both transports; it runs under serve, where the many short git-lfs
	// connections it opens cost no sshd login each.
	locks bool
}

// needGitLFS finds the real git-lfs client; in CI it must be there.
func needGitLFS(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git-lfs"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("git-lfs not installed (apt-get install git-lfs): %v", err)
		}
		t.Skip("git-lfs not installed")
	}
}

// gitEnv is p's git with extra environment variables.
func (p *person) gitEnv(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, append(p.env(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// lfsFiles writes n incompressible files of 1 to 10 MiB under dir/art
// (every tenth 10 MiB, the others 1 MiB: the sizes the issue names, at a
// third of the bytes of an even spread) and returns their SHA-256 by
// path.
func lfsFiles(t *testing.T, dir string, n int) map[string][32]byte {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "art"), 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	sums := map[string][32]byte{}
	for i := range n {
		size := 1 << 20
		if i%10 == 9 {
			size = 10 << 20
		}
		b := make([]byte, size)
		rng.Read(b)
		name := fmt.Sprintf("art/f%02d.bin", i)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		sums[name] = sha256.Sum256(b)
	}
	return sums
}

func countObjects(t *testing.T, repoDir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(repoDir, "lfs", "objects"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// lfsScenario is the test with the real git-lfs client: alice
// pushes 20 LFS files, bob (read only) clones them and cannot upload,
// carol (no access) hears "not found", locks are taken, listed, honoured
// by dave's push, and only their owner (or an admin) removes them.
func lfsScenario(t *testing.T, h lfsHost) {
	alice, bob, carol := h.people["alice"], h.people["bob"], h.people["carol"]
	for _, p := range h.people {
		p.mustGit(p.home, "lfs", "install", "--skip-repo")
		// Fewer transfer connections than git-lfs's 8: behind sshd each
		// is a login of its own (git-lfs 3.3 does not multiplex them);
		// TestLFSMultiplexedServe runs 8 at once.
		p.mustGit(p.home, "config", "--global", "lfs.concurrenttransfers", "3")
	}
	url := h.url + "team/assets.git"
	repoDir := filepath.Join(h.repos, "team", "assets.git")

	aw := filepath.Join(alice.home, "assets")
	alice.mustGit(alice.home, "clone", "-q", url, aw)
	alice.mustGit(aw, "lfs", "track", "*.bin")
	sums := lfsFiles(t, aw, 20)
	alice.mustGit(aw, "add", ".")
	alice.mustGit(aw, "commit", "-q", "-m", "assets")
	out, err := alice.gitEnv(aw, []string{"GIT_TRACE=1"}, "push", "origin", "HEAD:main")
	if err != nil {
		t.Fatalf("alice's LFS push: %v\n%s", err, out)
	}
	if !pureSSH(out) {
		t.Fatalf("the push did not use the pure SSH transfer alone (%d bytes of output):\n%s", len(out), lastLines(out, 40))
	}
	if n := countObjects(t, repoDir); n != 20 {
		t.Fatalf("%d LFS objects stored, want 20", n)
	}

	bw := filepath.Join(bob.home, "assets")
	out, err = bob.gitEnv(bob.home, []string{"GIT_TRACE=1"}, "clone", "-q", url, bw)
	if err != nil || !pureSSH(out) {
		t.Fatalf("bob's LFS clone: %v\n%s", err, lastLines(out, 40))
	}
	for name, want := range sums {
		b, err := os.ReadFile(filepath.Join(bw, name))
		if err != nil || sha256.Sum256(b) != want {
			t.Fatalf("bob's %s differs from alice's (%d bytes, %v)", name, len(b), err)
		}
	}
	// Bob reads but may not upload an object.
	writeFile(t, filepath.Join(bw, "art", "bob.bin"), "bob's own binary\n")
	bob.mustGit(bw, "add", "art/bob.bin")
	bob.mustGit(bw, "commit", "-q", "-m", "bob")
	// (One try: git-lfs would ask again, and then for an HTTP server,
	// for a minute.)
	if out, err := bob.git(bw, "-c", "lfs.ssh.retries=1", "lfs", "push", "origin", "HEAD"); err == nil {
		t.Fatalf("bob (read only) pushed LFS objects:\n%s", out)
	}
	if n := countObjects(t, repoDir); n != 20 {
		t.Fatalf("%d LFS objects after bob's refused upload, want 20", n)
	}
	// Carol has no access: the answer is git's not-found one.
	out, err = carol.ssh([]string{"-T"}, "git-lfs-transfer team/assets.git download")
	if err == nil || !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Fatalf("carol's git-lfs-transfer: %v\n%s", err, out)
	}
	out, err = carol.ssh([]string{"-T"}, "git-lfs-transfer team/none.git download")
	if err == nil || !strings.Contains(out, "gitserver: repository not found or access denied") {
		t.Fatalf("git-lfs-transfer of a missing repository: %v\n%s", err, out)
	}
	// git-lfs-authenticate ends at once with a short answer.
	out, err = bob.ssh([]string{"-T"}, "git-lfs-authenticate team/assets.git download")
	if err == nil || !strings.Contains(out, "Git LFS is served over SSH") {
		t.Fatalf("git-lfs-authenticate: %v\n%s", err, out)
	}

	objects := 20
	if h.locks {
		lfsLocks(t, h, url, aw)
		objects++ // dave's push replaced f00.bin
	}
	if out := h.admin("repos", "list", "--json"); !strings.Contains(out, fmt.Sprintf(`"lfs_objects": %d,`, objects)) {
		t.Fatalf("repos list --json:\n%s", out)
	}
	if out := h.admin("lfs", "gc", "team/assets"); !strings.Contains(out, fmt.Sprintf("removed 0 objects (0 B), kept %d referenced and 0 younger", objects)) {
		t.Fatalf("lfs gc:\n%s", out)
	}
	if log := h.log(); !strings.Contains(log, "command=git-lfs-transfer op=upload repo=team/assets") || !strings.Contains(log, "bytes_in=") {
		t.Fatalf("no LFS request lines in the log:\n%s", lastLines(log, 30))
	}
}

// lfsLocks: alice locks a file; dave sees the lock, cannot push a change
// to the file (git-lfs verifies locks before a push), cannot unlock it,
// not even with --force (he is no admin); alice unlocks it and dave's
// push goes through.
func lfsLocks(t *testing.T, h lfsHost, url, aw string) {
	alice, dave := h.people["alice"], h.people["dave"]
	if out, err := alice.git(aw, "lfs", "lock", "art/f00.bin"); err != nil || !strings.Contains(out, "Locked art/f00.bin") {
		t.Fatalf("alice's lock: %v\n%s", err, out)
	}
	dw := filepath.Join(dave.home, "assets")
	dave.mustGit(dave.home, "clone", "-q", url, dw)
	dave.mustGit(dw, "config", "lfs.locksverify", "true")
	if out := dave.mustGit(dw, "lfs", "locks"); !strings.Contains(out, "art/f00.bin") || !strings.Contains(out, "alice") {
		t.Fatalf("dave's git lfs locks:\n%s", out)
	}
	writeFile(t, filepath.Join(dw, "art", "f00.bin"), "dave's change\n")
	dave.mustGit(dw, "commit", "-q", "-am", "dave changes f00")
	if out, err := dave.git(dw, "push", "origin", "HEAD:main"); err == nil || !strings.Contains(out, "locked") {
		t.Fatalf("dave pushed a file alice has locked: %v\n%s", err, out)
	}
	if out, err := dave.git(dw, "lfs", "unlock", "art/f00.bin"); err == nil {
		t.Fatalf("dave unlocked alice's lock:\n%s", out)
	}
	out, err := dave.git(dw, "lfs", "unlock", "--force", "art/f00.bin")
	if err == nil || !strings.Contains(out, "admin") {
		t.Fatalf("dave (no admin) forced alice's lock away: %v\n%s", err, out)
	}
	if out, err := alice.git(aw, "lfs", "unlock", "art/f00.bin"); err != nil {
		t.Fatalf("alice's unlock: %v\n%s", err, out)
	}
	if out, err := dave.git(dw, "push", "origin", "HEAD:main"); err != nil {
		t.Fatalf("dave's push after the unlock: %v\n%s", err, out)
	}
}

// pureSSH reports whether a GIT_TRACE=1 output shows git-lfs moving
// objects with its pure SSH adapter and never asking for an HTTP server
// (git-lfs 3.3 traces no success line; later versions do).
func pureSSH(trace string) bool {
	return strings.Contains(trace, "attempting pure SSH protocol connection") &&
		strings.Contains(trace, `tq: starting transfer adapter "ssh"`) &&
		!strings.Contains(trace, "pure SSH protocol connection failed") &&
		!strings.Contains(trace, "git-lfs-authenticate")
}

// readLog is the gitserver log in a data directory.
func readLog(data string) string {
	b, _ := os.ReadFile(filepath.Join(data, "gitserver.log"))
	return string(b)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestLFSThroughSSHD(t *testing.T) {
	t.Parallel()
	needGitLFS(t)
	s := newServer(t)
	writeFile(t, filepath.Join(s.dir, "policy.toml"), lfsPolicy)
	h := lfsHost{url: "root@gitsrv:", people: map[string]*person{}, repos: s.repos, log: func() string {
		b, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
		return string(b)
	}}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		h.people[name] = &s.newClient(name, true).person
	}
	h.admin = func(args ...string) string { return s.admin("", args...) }
	s.admin("", "repos", "create", "team/assets")
	lfsScenario(t, h)

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.sshd.Log())
		}
	})
}

func TestLFSThroughServe(t *testing.T) {
	t.Parallel()
	needGitLFS(t)
	s := newServed(t, "")
	writeFile(t, filepath.Join(s.dir, "policy.toml"), lfsPolicy)
	h := lfsHost{url: "git@gitsrv:", people: map[string]*person{}, repos: s.repos, log: s.log, locks: true}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		h.people[name] = &s.client(name, true).person
	}
	s.repo("team/assets")
	s.start()
	h.admin = func(args ...string) string {
		out, err := exec.Command(buildBinary(t), append([]string{"--config", s.cfg}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("gitserver %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	lfsScenario(t, h)
}

// TestLFSMultiplexedServe pushes and clones through serve with every
// SSH session of git and git-lfs (8 transfers at once) on one multiplexed
// connection, under a short idle timeout (which counts open sessions,
// not traffic; see internal/listener): the channel limit lets them all
// in, and the connection is never dropped under them.
func TestLFSMultiplexedServe(t *testing.T) {
	t.Parallel()
	needGitLFS(t)
	s := newServed(t, "idle_timeout = \"2s\"\n")
	writeFile(t, filepath.Join(s.dir, "policy.toml"), lfsPolicy)
	alice := s.client("alice", true)
	s.repo("team/assets")
	s.start()
	// A short socket name: a unix socket's path has ~100 bytes.
	alice.sshCfg = alice.writeConfig("\tControlMaster auto\n\tControlPath "+filepath.Join(alice.home, "mux")+"\n\tControlPersist 60\n", alice.key)
	t.Cleanup(func() { alice.ssh([]string{"-O", "exit"}) })
	alice.mustGit(alice.home, "lfs", "install", "--skip-repo")
	aw := filepath.Join(alice.home, "assets")
	alice.mustGit(alice.home, "clone", "-q", "git@gitsrv:team/assets.git", aw)
	alice.mustGit(aw, "config", "lfs.ssh.automultiplex", "false") // ssh's own ControlMaster multiplexes
	alice.mustGit(aw, "config", "lfs.concurrenttransfers", "8")
	alice.mustGit(aw, "lfs", "track", "*.bin")
	rng := rand.NewChaCha8([32]byte{9})
	for i := range 24 {
		b := make([]byte, 256<<10)
		rng.Read(b)
		writeFile(t, filepath.Join(aw, fmt.Sprintf("m%02d.bin", i)), string(b))
	}
	alice.mustGit(aw, "add", ".")
	alice.mustGit(aw, "commit", "-q", "-m", "many")
	if out, err := alice.gitEnv(aw, []string{"GIT_TRACE=1"}, "push", "origin", "HEAD:main"); err != nil || !pureSSH(out) {
		t.Fatalf("multiplexed LFS push: %v\n%s", err, lastLines(out, 40))
	}
	if n := countObjects(t, filepath.Join(s.repos, "team", "assets.git")); n != 24 {
		t.Fatalf("%d objects stored, want 24", n)
	}
	log := s.log()
	if n := strings.Count(log, "connection open"); n != 1 {
		t.Fatalf("%d connections for one multiplexed push, want 1:\n%s", n, lastLines(log, 40))
	}
	if n := strings.Count(log, "command=git-lfs-transfer op=upload"); n < 2 {
		t.Fatalf("%d LFS sessions, want several on the one connection", n)
	}
	if strings.Contains(log, "too many channels") {
		t.Fatalf("a session was refused:\n%s", lastLines(log, 40))
	}
}
