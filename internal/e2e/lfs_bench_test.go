package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// Benchmarks of Git LFS over SSH (git-lfs-transfer) against the same
// bytes as plain git blobs over the same transport, through OpenSSH +
// 'gitserver shell' and through 'gitserver serve': 200 MB in 20
// incompressible files, pushed to a fresh empty repository and cloned
// (with checkout; the LFS clone smudges, that is downloads, every
// object). The variants alternate within each run, as alternate does;
// each reports its median and MB/s, and lfs/plain-MB/s is the throughput
// ratio (alternate's lfs/plain is the ratio of times, its inverse). Both
// sides use git's and git-lfs's defaults, as a user gets them: the plain
// push deflates and delta-searches the random blobs (pack.compression),
// the plain clone does so again on the server from the loose objects the
// push left (fewer than transfer.unpackLimit); plain-packed clones the
// same blobs after 'git repack -a -d', where upload-pack reuses the pack.
// Needs root, sshd and git-lfs.
//
//	go test ./internal/e2e -run XXX -bench 'LFSPush|LFSClone' -benchtime 3x -timeout 30m

const (
	lfsBenchFiles = 20
	lfsBenchSize  = 1_000_000 // bytes per file: 200 MB in all
)

// lfsBenchTotal is the bytes of one transfer, for MB/s.
const lfsBenchTotal = lfsBenchFiles * lfsBenchSize

// lfsBenchWork is the client side: one commit of the files tracked by
// LFS, and one of the same files as plain blobs; built once per
// benchmark, for both transports.
type lfsBenchWork struct {
	lfs, plain string // work trees
}

// lfsBenchHost is one transport: a client with git-lfs installed in its
// HOME, and how to make and remove repositories on the server.
type lfsBenchHost struct {
	p      *person
	url    string // repository URL prefix: "root@gitsrv:"
	repos  string // the repos root
	create func(name string)
	log    func() string
}

func (h *lfsBenchHost) dir(name string) string { return filepath.Join(h.repos, name+".git") }

// git is a command as h's client, in dir.
func (h *lfsBenchHost) git(dir string, args ...string) *exec.Cmd {
	c := exec.Command("git", args...)
	c.Dir, c.Env = dir, h.p.env()
	return c
}

func (h *lfsBenchHost) mustGit(b *testing.B, dir string, args ...string) {
	b.Helper()
	if out, err := h.git(dir, args...).CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func needGitLFSBench(b *testing.B) {
	b.Helper()
	if _, err := exec.LookPath("git-lfs"); err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("git-lfs not installed (apt-get install git-lfs): %v", err)
		}
		b.Skip("git-lfs not installed")
	}
}

// newLFSBenchWork writes the files and commits them twice, with and
// without LFS, under a HOME of its own where git-lfs is installed.
func newLFSBenchWork(b *testing.B) *lfsBenchWork {
	b.Helper()
	needGitLFSBench(b)
	dir := b.TempDir()
	home := filepath.Join(dir, "home")
	w := &lfsBenchWork{lfs: filepath.Join(dir, "lfs"), plain: filepath.Join(dir, "plain")}
	for _, d := range []string{home, filepath.Join(w.lfs, "art"), filepath.Join(w.plain, "art")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	p := &person{t: b, name: "bench", home: home, sshCfg: "/dev/null"}
	p.mustGit(home, "lfs", "install", "--skip-repo")
	rng := rand.NewChaCha8([32]byte{4, 2})
	buf := make([]byte, lfsBenchSize)
	for i := range lfsBenchFiles {
		rng.Read(buf)
		for _, wt := range []string{w.lfs, w.plain} {
			if err := os.WriteFile(filepath.Join(wt, "art", fmt.Sprintf("f%02d.bin", i)), buf, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, wt := range []string{w.lfs, w.plain} {
		p.mustGit(wt, "init", "-q")
		if wt == w.lfs {
			p.mustGit(wt, "lfs", "track", "*.bin")
		}
		p.mustGit(wt, "add", ".")
		p.mustGit(wt, "commit", "-q", "-m", "200 MB of art")
	}
	if _, err := os.Stat(filepath.Join(w.lfs, ".git", "hooks", "pre-push")); err != nil {
		b.Fatalf("git lfs track installed no pre-push hook: %v", err)
	}
	if n := lfsBenchObjects(filepath.Join(w.lfs, ".git")); n != lfsBenchFiles {
		b.Fatalf("the LFS work tree holds %d objects, want %d", n, lfsBenchFiles)
	}
	return w
}

// lfsBenchObjects counts the LFS objects under a repository's lfs/.
func lfsBenchObjects(repoDir string) int {
	n := 0
	filepath.WalkDir(filepath.Join(repoDir, "lfs", "objects"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// lfsBenchSSHD is OpenSSH + 'gitserver shell' with alice, an admin, whose
// HOME has git-lfs installed.
func lfsBenchSSHD(b *testing.B) *lfsBenchHost {
	b.Helper()
	s := newServerFiles(b)
	s.sshd = sshdtest.Start(b, s.sshdConfig("GIT_PROTOCOL"))
	alice := s.newClient("alice", true)
	alice.mustGit(alice.home, "lfs", "install", "--skip-repo")
	return &lfsBenchHost{p: &alice.person, url: "root@gitsrv:", repos: s.repos,
		create: func(name string) { s.admin("", "repos", "create", "--default-branch", "main", name) },
		log: func() string {
			body, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
			return string(body)
		}}
}

// lfsBenchServe is 'gitserver serve' with alice, an admin; setup (keys,
// the repositories that exist before) runs before the server starts.
func lfsBenchServe(b *testing.B, setup func(h *lfsBenchHost)) *lfsBenchHost {
	b.Helper()
	sshdtest.Need(b) // root, as the sshd side; serve itself needs none
	s := newServed(b, "")
	alice := s.client("alice", true)
	alice.mustGit(alice.home, "lfs", "install", "--skip-repo")
	h := &lfsBenchHost{p: &alice.person, url: "git@gitsrv:", repos: s.repos,
		create: func(name string) { s.repo(name) }, log: s.log}
	if setup != nil {
		setup(h)
	}
	s.start()
	return h
}

var lfsRequestLine = regexp.MustCompile(`command=git-lfs-transfer op=(\w+) repo=(\S+)`)

// lfsSessions counts the git-lfs-transfer request lines (one an SSH
// session) of op on repositories named repoPrefix... in a log.
func lfsSessions(log, op, repoPrefix string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if m := lfsRequestLine.FindStringSubmatch(line); m != nil && m[1] == op && strings.HasPrefix(m[2], repoPrefix) {
			n++
		}
	}
	return n
}

// reportMBs reports each variant's MB/s median and, for every variant
// after the first (the baseline), its throughput ratio to it.
func reportMBs(b *testing.B, vs []*variant) {
	b.Helper()
	base := median(vs[0].took)
	for _, v := range vs {
		m := median(v.took)
		b.ReportMetric(lfsBenchTotal/1e6/m.Seconds(), v.name+"-MB/s")
		if v != vs[0] {
			b.ReportMetric(float64(base)/float64(m), v.name+"/"+vs[0].name+"-MB/s")
		}
	}
}

// BenchmarkLFSPush pushes the 200 MB commit to a fresh empty repository
// each time, with LFS (git push, whose pre-push hook uploads the objects
// over git-lfs-transfer) and as plain blobs (git-receive-pack), through
// sshd and through serve. The repository is made before the clock
// starts and the previous one of the variant removed.
func BenchmarkLFSPush(b *testing.B) {
	w := newLFSBenchWork(b)
	b.Run("sshd", func(b *testing.B) { lfsBenchPush(b, w, lfsBenchSSHD(b)) })
	b.Run("serve", func(b *testing.B) { lfsBenchPush(b, w, lfsBenchServe(b, nil)) })
}

func lfsBenchPush(b *testing.B, w *lfsBenchWork, h *lfsBenchHost) {
	n := 0
	last := map[string]string{}
	push := func(kind, work string) *variant {
		return &variant{name: kind, cmd: func() *exec.Cmd {
			if last[kind] != "" {
				os.RemoveAll(h.dir(last[kind]))
			}
			n++
			last[kind] = fmt.Sprintf("bench/%s-push-%d", kind, n)
			h.create(last[kind])
			return h.git(work, "push", "-q", h.url+last[kind]+".git", "HEAD:refs/heads/main")
		}}
	}
	vs := []*variant{push("plain", w.plain), push("lfs", w.lfs)}
	alternate(b, vs)
	reportMBs(b, vs)
	// The LFS pushes uploaded their objects, over git-lfs-transfer only.
	if got := lfsBenchObjects(h.dir(last["lfs"])); got != lfsBenchFiles {
		b.Fatalf("%s holds %d LFS objects after the push, want %d", last["lfs"], got, lfsBenchFiles)
	}
	log := h.log()
	if strings.Contains(log, "git-lfs-authenticate") {
		b.Fatalf("git-lfs asked for git-lfs-authenticate (an HTTP endpoint)")
	}
	b.ReportMetric(float64(lfsSessions(log, "upload", "bench/lfs-push-"))/float64(len(vs[1].took)+1), "lfs-sessions/push")
}

// BenchmarkLFSClone clones (with checkout) the 200 MB commit pushed once
// with LFS and once as plain blobs, through sshd and through serve; the
// LFS clone downloads every object (git-lfs's smudge, delayed and
// batched). plain-packed is the plain repository after 'git repack -a
// -d', the best case for git.
func BenchmarkLFSClone(b *testing.B) {
	w := newLFSBenchWork(b)
	b.Run("sshd", func(b *testing.B) {
		h := lfsBenchSSHD(b)
		lfsBenchSeed(b, w, h)
		lfsBenchClone(b, h)
	})
	b.Run("serve", func(b *testing.B) {
		// serve is started after the repositories exist; the pushes go
		// through it.
		h := lfsBenchServe(b, func(h *lfsBenchHost) {
			for _, name := range []string{"bench/plain", "bench/lfs", "bench/plain-packed"} {
				h.create(name)
			}
		})
		lfsBenchSeed(b, w, h)
		lfsBenchClone(b, h)
	})
}

// lfsBenchSeed pushes the two commits to bench/plain, bench/lfs and
// bench/plain-packed (then repacked), outside the clock.
func lfsBenchSeed(b *testing.B, w *lfsBenchWork, h *lfsBenchHost) {
	b.Helper()
	for _, r := range []struct{ name, work string }{{"bench/plain", w.plain}, {"bench/lfs", w.lfs}, {"bench/plain-packed", w.plain}} {
		if _, err := os.Stat(h.dir(r.name)); err != nil {
			h.create(r.name)
		}
		h.mustGit(b, r.work, "push", "-q", h.url+r.name+".git", "HEAD:refs/heads/main")
	}
	if out, err := exec.Command("git", "-C", h.dir("bench/plain-packed"), "repack", "-a", "-d", "-q").CombinedOutput(); err != nil {
		b.Fatalf("repack: %v\n%s", err, out)
	}
	if got := lfsBenchObjects(h.dir("bench/lfs")); got != lfsBenchFiles {
		b.Fatalf("bench/lfs holds %d LFS objects, want %d", got, lfsBenchFiles)
	}
}

func lfsBenchClone(b *testing.B, h *lfsBenchHost) {
	b.Helper()
	n := 0
	last := map[string]string{}
	clone := func(kind string) *variant {
		return &variant{name: kind, cmd: func() *exec.Cmd {
			if last[kind] != "" {
				os.RemoveAll(last[kind])
			}
			n++
			last[kind] = filepath.Join(h.p.home, fmt.Sprintf("clone-%s-%d", kind, n))
			return h.git(h.p.home, "clone", "-q", h.url+"bench/"+kind+".git", last[kind])
		}}
	}
	vs := []*variant{clone("plain"), clone("lfs"), clone("plain-packed")}
	alternate(b, vs)
	reportMBs(b, vs[:2])
	b.ReportMetric(lfsBenchTotal/1e6/median(vs[2].took).Seconds(), "plain-packed-MB/s")
	b.ReportMetric(float64(median(vs[2].took))/float64(median(vs[1].took)), "lfs/plain-packed-MB/s")
	// The LFS clone checked out the objects, not their pointers.
	for _, kind := range []string{"plain", "lfs", "plain-packed"} {
		fi, err := os.Stat(filepath.Join(last[kind], "art", "f07.bin"))
		if err != nil || fi.Size() != lfsBenchSize {
			b.Fatalf("the %s clone's art/f07.bin: %v (%d bytes, want %d)", kind, err, sizeOf(fi), lfsBenchSize)
		}
	}
	if strings.Contains(h.log(), "git-lfs-authenticate") {
		b.Fatalf("git-lfs asked for git-lfs-authenticate (an HTTP endpoint)")
	}
	b.ReportMetric(float64(lfsSessions(h.log(), "download", "bench/lfs"))/float64(len(vs[1].took)+1), "lfs-sessions/clone")
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}
