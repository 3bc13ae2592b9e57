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

	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/internal/sshdtest"
)

// Benchmarks of Git LFS over SSH (git-lfs-transfer) against the same
// bytes as plain git blobs over the same transport, through OpenSSH +
// 'gitserver shell' and through 'gitserver serve': 200 MB in 20
// incompressible files of 10 MB, pushed to a fresh empty repository and
// cloned with checkout (the LFS clone smudges, that is downloads, every
// object). The variants alternate within each run, as alternate does;
// each reports its median time and MB/s, and NAME/plain-MB/s is its
// throughput ratio to plain git (alternate's NAME/plain is the ratio of
// the times, the inverse).
//
// Both sides run with git's and git-lfs's defaults, as a user gets them:
// the plain push deflates and delta-searches the random blobs on the
// client, and the plain clone does so again on the server, from the
// loose objects the push left (fewer objects than transfer.unpackLimit);
// plain-packed clones the same blobs after 'git repack -a -d', where
// upload-pack reuses the pack as it is. lfs-c1 is LFS with
// lfs.concurrenttransfers=1: git-lfs opens one SSH connection per
// transfer worker (8 by default), one after another.
//
// The servers and the repositories cloned are set up once per benchmark,
// outside the clock; a push's fresh repository is made before its clock
// starts. Needs root, sshd and git-lfs. One run of each variant after a
// warm-up takes about 10 minutes on a 2-CPU VM:
//
//	go test ./internal/e2e -run XXX -bench 'LFSPush|LFSClone' -benchtime 1x -timeout 30m

const (
	lfsBenchFiles = 20
	lfsBenchSize  = 10_000_000 // bytes per file: 200 MB in all
	// lfsBenchTotal is the bytes one transfer moves, for MB/s.
	lfsBenchTotal = lfsBenchFiles * lfsBenchSize
)

// lfsBenchWork is the client side: one commit of the files tracked by
// LFS, and one of the same files as plain blobs.
type lfsBenchWork struct {
	lfs, plain string // work trees
}

// lfsBenchHost is one transport: a client with git-lfs installed in its
// HOME, the server's repos root and log, and how to create a repository.
type lfsBenchHost struct {
	p      *person
	url    string // repository URL prefix, "root@gitsrv:"
	repos  string
	create func(b *testing.B, name string)
	log    func() string
	pushes int // repositories lfsBenchPush has named, over all its runs
}

func (h *lfsBenchHost) dir(name string) string { return filepath.Join(h.repos, name+".git") }

// git is a git command as h's client in dir, with -c options first.
func (h *lfsBenchHost) git(dir string, config []string, args ...string) *exec.Cmd {
	var all []string
	for _, c := range config {
		all = append(all, "-c", c)
	}
	c := exec.Command("git", append(all, args...)...)
	c.Dir, c.Env = dir, h.p.env()
	return c
}

func (h *lfsBenchHost) mustGit(b *testing.B, dir string, args ...string) {
	b.Helper()
	if out, err := h.git(dir, nil, args...).CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// newLFSBenchWork writes the files and commits them twice, with and
// without LFS, under a HOME of its own where git-lfs is installed.
func newLFSBenchWork(b *testing.B) *lfsBenchWork {
	b.Helper()
	if _, err := exec.LookPath("git-lfs"); err != nil {
		if os.Getenv("CI") != "" {
			b.Fatalf("git-lfs not installed (apt-get install git-lfs): %v", err)
		}
		b.Skip("git-lfs not installed")
	}
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

// lfsBenchSSHD is OpenSSH + 'gitserver shell' with alice, an admin.
func lfsBenchSSHD(b *testing.B) *lfsBenchHost {
	b.Helper()
	s := newServerFiles(b)
	s.sshd = sshdtest.Start(b, s.sshdConfig("GIT_PROTOCOL"))
	alice := s.newClient("alice", true)
	alice.mustGit(alice.home, "lfs", "install", "--skip-repo")
	return &lfsBenchHost{p: &alice.person, url: "root@gitsrv:", repos: s.repos,
		create: func(b *testing.B, name string) {
			out, err := exec.Command(s.bin, "--config", s.cfg, "repos", "create", "--default-branch", "main", name).CombinedOutput()
			if err != nil {
				b.Fatalf("repos create %s: %v\n%s", name, err, out)
			}
		},
		log: func() string {
			body, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log"))
			return string(body)
		}}
}

// lfsBenchServe is 'gitserver serve' with alice, an admin; the
// repositories named in before are created before the server starts.
func lfsBenchServe(b *testing.B, before ...string) *lfsBenchHost {
	b.Helper()
	sshdtest.Need(b) // root, as on the sshd side
	s := newServed(b, "")
	alice := s.client("alice", true)
	alice.mustGit(alice.home, "lfs", "install", "--skip-repo")
	h := &lfsBenchHost{p: &alice.person, url: "git@gitsrv:", repos: s.repos, log: s.log,
		create: func(b *testing.B, name string) {
			dir := filepath.Join(s.repos, name+".git")
			if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := setup.CreateBareRepo("git", dir, "main"); err != nil {
				b.Fatal(err)
			}
		}}
	for _, name := range before {
		h.create(b, name)
	}
	s.start()
	return h
}

var lfsRequestLine = regexp.MustCompile(`command=git-lfs-transfer op=(\w+) repo=(\S+)`)

// lfsSessions counts the git-lfs-transfer request lines in a log (one
// for each SSH session) of op on the repositories repo matches.
func lfsSessions(log, op string, repo *regexp.Regexp) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if m := lfsRequestLine.FindStringSubmatch(line); m != nil && m[1] == op && repo.MatchString(m[2]) {
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

// lfsC1 is git-lfs with one transfer worker, so one SSH connection.
var lfsC1 = []string{"lfs.concurrenttransfers=1"}

// BenchmarkLFSPush pushes the 200 MB commit to a fresh empty repository
// each time: as plain blobs (git-receive-pack), and with LFS (git push,
// whose pre-push hook uploads the objects over git-lfs-transfer before
// git-receive-pack takes the commit of pointers), through sshd and
// through serve.
func BenchmarkLFSPush(b *testing.B) {
	w := newLFSBenchWork(b)
	sshd, serve := lfsBenchSSHD(b), lfsBenchServe(b)
	b.Run("sshd", func(b *testing.B) { lfsBenchPush(b, w, sshd) })
	b.Run("serve", func(b *testing.B) { lfsBenchPush(b, w, serve) })
}

func lfsBenchPush(b *testing.B, w *lfsBenchWork, h *lfsBenchHost) {
	// The testing package runs this more than once (b.N = 1 first): the
	// names go on counting from the last run's, whose last repositories
	// stay.
	last := map[string]string{}
	push := func(kind, work string, config []string) *variant {
		return &variant{name: kind, cmd: func() *exec.Cmd {
			if last[kind] != "" {
				os.RemoveAll(h.dir(last[kind]))
			}
			h.pushes++
			last[kind] = fmt.Sprintf("bench/%s-push-%d", kind, h.pushes)
			h.create(b, last[kind])
			return h.git(work, config, "push", "-q", h.url+last[kind]+".git", "HEAD:refs/heads/main")
		}}
	}
	vs := []*variant{push("plain", w.plain, nil), push("lfs", w.lfs, nil), push("lfs-c1", w.lfs, lfsC1)}
	mark := len(h.log()) // the sessions of this run of the benchmark follow
	alternate(b, vs)
	reportMBs(b, vs)
	// The LFS pushes uploaded their objects, over git-lfs-transfer only.
	for _, kind := range []string{"lfs", "lfs-c1"} {
		if got := lfsBenchObjects(h.dir(last[kind])); got != lfsBenchFiles {
			b.Fatalf("%s holds %d LFS objects after the push, want %d", last[kind], got, lfsBenchFiles)
		}
	}
	log := h.log()[mark:]
	if strings.Contains(log, "git-lfs-authenticate") {
		b.Fatalf("git-lfs asked for git-lfs-authenticate (an HTTP endpoint)")
	}
	for i, kind := range []string{"lfs", "lfs-c1"} {
		s := lfsSessions(log, "upload", regexp.MustCompile(`^bench/`+kind+`-push-`))
		b.ReportMetric(float64(s)/float64(len(vs[1+i].took)+1), kind+"-sessions/op")
	}
}

// BenchmarkLFSClone clones (with checkout) the 200 MB commit pushed
// once with LFS and once as plain blobs, through sshd and through serve;
// the LFS clone downloads every object (git-lfs's smudge, delayed and
// batched). plain-packed is the plain repository after 'git repack -a
// -d', the best case for git; NAME/plain-packed-MB/s compare with it.
func BenchmarkLFSClone(b *testing.B) {
	w := newLFSBenchWork(b)
	sshd := lfsBenchSSHD(b)
	for _, name := range []string{"bench/plain", "bench/lfs"} {
		sshd.create(b, name)
	}
	serve := lfsBenchServe(b, "bench/plain", "bench/lfs")
	for _, h := range []*lfsBenchHost{sshd, serve} {
		lfsBenchSeed(b, w, h)
	}
	b.Run("sshd", func(b *testing.B) { lfsBenchClone(b, sshd) })
	b.Run("serve", func(b *testing.B) { lfsBenchClone(b, serve) })
}

// lfsBenchSeed pushes the two commits to bench/plain and bench/lfs, and
// copies them to bench/plain-packed (then repacked) and bench/lfs-c1.
func lfsBenchSeed(b *testing.B, w *lfsBenchWork, h *lfsBenchHost) {
	b.Helper()
	h.mustGit(b, w.plain, "push", "-q", h.url+"bench/plain.git", "HEAD:refs/heads/main")
	h.mustGit(b, w.lfs, "push", "-q", h.url+"bench/lfs.git", "HEAD:refs/heads/main")
	for _, c := range [][]string{
		{"cp", "-a", h.dir("bench/plain"), h.dir("bench/plain-packed")},
		{"git", "-C", h.dir("bench/plain-packed"), "repack", "-a", "-d", "-q"},
		{"cp", "-a", h.dir("bench/lfs"), h.dir("bench/lfs-c1")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	if got := lfsBenchObjects(h.dir("bench/lfs")); got != lfsBenchFiles {
		b.Fatalf("bench/lfs holds %d LFS objects, want %d", got, lfsBenchFiles)
	}
}

func lfsBenchClone(b *testing.B, h *lfsBenchHost) {
	n := 0
	last := map[string]string{}
	clone := func(kind string, config []string) *variant {
		return &variant{name: kind, cmd: func() *exec.Cmd {
			if last[kind] != "" {
				os.RemoveAll(last[kind])
			}
			n++
			last[kind] = filepath.Join(h.p.home, fmt.Sprintf("clone-%s-%d", kind, n))
			return h.git(h.p.home, config, "clone", "-q", h.url+"bench/"+kind+".git", last[kind])
		}}
	}
	vs := []*variant{clone("plain", nil), clone("lfs", nil), clone("lfs-c1", lfsC1), clone("plain-packed", nil)}
	mark := len(h.log())
	alternate(b, vs)
	reportMBs(b, vs)
	packed := median(vs[3].took)
	for _, v := range vs[1:3] {
		b.ReportMetric(float64(packed)/float64(median(v.took)), v.name+"/plain-packed-MB/s")
	}
	// Every clone checked out the files themselves, not LFS pointers.
	for _, v := range vs {
		fi, err := os.Stat(filepath.Join(last[v.name], "art", "f07.bin"))
		if err != nil || fi.Size() != lfsBenchSize {
			b.Fatalf("the %s clone's art/f07.bin: %v (%v, want %d bytes)", v.name, err, fi, lfsBenchSize)
		}
	}
	log := h.log()[mark:]
	if strings.Contains(log, "git-lfs-authenticate") {
		b.Fatalf("git-lfs asked for git-lfs-authenticate (an HTTP endpoint)")
	}
	for i, kind := range []string{"lfs", "lfs-c1"} {
		s := lfsSessions(log, "download", regexp.MustCompile(`^bench/`+kind+`$`))
		b.ReportMetric(float64(s)/float64(len(vs[1+i].took)+1), kind+"-sessions/op")
	}
}
