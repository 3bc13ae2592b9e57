package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
)

// These tests run several frontends on one machine as a company runs
// them on several: each with its own config and data directory (its own
// key store and policy file, the replicas), one repos root (the shared
// storage), one PostgreSQL (the source of truth), a 'gitserver replicate'
// per frontend, and a real sshd in front of two of them and 'gitserver
// serve' as the third.

const frontendPolicy = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"

[[rule]]
repos  = ["team/*"]
users  = ["bob", "carol"]
access = "write"

[[rule]]
repos  = ["public/*"]
users  = ["@all"]
access = "read"
`

// frontendPolicyNoCarol takes carol's rights away.
const frontendPolicyNoCarol = `
[groups]
admins = ["alice"]

[[rule]]
repos  = ["**"]
users  = ["@admins"]
access = "admin"

[[rule]]
repos  = ["team/*"]
users  = ["bob"]
access = "write"
`

// fleet is the shared parts: the binaries, PostgreSQL, the repos root.
type fleet struct {
	t     *testing.T
	bin   string // gitserver, with gitserver-replicate beside it
	dir   string
	repos string
	dsn   string // the dsn file
	pg    *pgtest.Server
}

// frontend is one host: its config and data, its replica daemon, and
// what clients connect to.
type frontend struct {
	f        *fleet
	name     string
	cfg      string
	data     string
	sshd     *sshdtest.Server // nil for serve
	port     int
	hostPub  string // serve's host key
	daemon   *exec.Cmd
	daemonMu sync.Mutex
}

func newFleet(t *testing.T) *fleet {
	t.Helper()
	sshdtest.Need(t)
	dsn, srv := pgtest.StartOwn(t)
	f := &fleet{t: t, dir: t.TempDir(), pg: srv}
	f.bin = sshdtest.InstallBinary(t, buildBinary(t), "gitserver", "gitserver-replicate")
	f.repos = filepath.Join(f.dir, "repos")
	f.dsn = filepath.Join(f.dir, "pg.dsn")
	if err := os.MkdirAll(f.repos, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.dsn, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// frontend writes a host's config; with sshd, it starts an sshd in front
// of it, else the host is 'gitserver serve' (started by serve). The
// policy is left out of the config: the replica in data_dir.
func (f *fleet) frontend(name string, sshd bool) *frontend {
	t := f.t
	t.Helper()
	h := &frontend{f: f, name: name, data: filepath.Join(f.dir, name, "data"), cfg: filepath.Join(f.dir, name, "config.toml")}
	if err := os.MkdirAll(h.data, 0o755); err != nil {
		t.Fatal(err)
	}
	listen := ""
	if !sshd {
		h.port = sshdtest.FreePort(t)
		h.hostPub = sshdtest.Keygen(t, filepath.Join(h.data, "ssh_host_ed25519_key"))
		listen = fmt.Sprintf("[listen]\naddress = \"127.0.0.1:%d\"\n", h.port)
	}
	writeFile(t, h.cfg, fmt.Sprintf("ssh_user = \"root\"\nrepos = %q\ndata_dir = %q\n[log]\nlevel = \"debug\"\n[store]\ndsn_file = %q\n%s",
		f.repos, h.data, f.dsn, listen))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(h.data, "gitserver.log"))
			t.Logf("frontend %s gitserver log:\n%s", name, log)
		}
	})
	if sshd {
		s := &server{bin: f.bin, cfg: h.cfg}
		h.sshd = sshdtest.Start(t, s.sshdConfig("GIT_PROTOCOL"))
		h.port = h.sshd.Port
	}
	return h
}

// admin runs a gitserver admin command on h; it must succeed.
func (h *frontend) admin(stdin string, args ...string) string {
	h.f.t.Helper()
	out, err := h.try(stdin, args...)
	if err != nil {
		h.f.t.Fatalf("%s: gitserver %v: %v\n%s", h.name, args, err, out)
	}
	return out
}

// try runs a gitserver admin command on h.
func (h *frontend) try(stdin string, args ...string) (string, error) {
	cmd := exec.Command(h.f.bin, append([]string{"--config", h.cfg}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// replicate starts h's 'gitserver replicate'; it is killed at the end.
func (h *frontend) replicate() {
	t := h.f.t
	t.Helper()
	h.daemonMu.Lock()
	defer h.daemonMu.Unlock()
	out := &sshdtest.SyncBuffer{}
	cmd := exec.Command(h.f.bin, "--config", h.cfg, "replicate", "--poll", "1s")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.daemon = cmd
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("frontend %s replicate output:\n%s", h.name, out.String())
		}
	})
	eventually(t, h.name+" replica current", 30*time.Second, func() error {
		_, err := h.try("", "replicate", "--status")
		return err
	})
}

// kill9 kills h's replicate with SIGKILL.
func (h *frontend) kill9() {
	h.daemonMu.Lock()
	defer h.daemonMu.Unlock()
	h.daemon.Process.Signal(syscall.SIGKILL)
	h.daemon.Wait()
}

// serve starts h as 'gitserver serve'.
func (h *frontend) serve() {
	t := h.f.t
	t.Helper()
	out := &sshdtest.SyncBuffer{}
	cmd := exec.Command(h.f.bin, "--config", h.cfg, "serve")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("frontend %s serve output:\n%s", h.name, out.String())
		}
	})
	eventually(t, h.name+" listening", 15*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", h.port))
		if err == nil {
			c.Close()
		}
		return err
	})
}

// has reports whether h's replica has fp.
func (h *frontend) has(fp string) bool {
	_, err := keys.Open(filepath.Join(h.data, "keys.db"), keys.Options{}).Lookup(fp)
	return err == nil
}

// digest is a digest of every record in h's replica.
func (h *frontend) digest() string {
	h.f.t.Helper()
	var lines []string
	err := keys.Open(filepath.Join(h.data, "keys.db"), keys.Options{}).List("", func(r keys.Record) error {
		lines = append(lines, strings.Join([]string{r.Key.Fingerprint, r.User, r.Title, base64.StdEncoding.EncodeToString(r.Key.Blob), r.Added.UTC().Format(time.RFC3339Nano)}, " "))
		return nil
	})
	if err != nil {
		h.f.t.Fatal(err)
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%x (%d keys)", sum[:8], len(lines))
}

// eventually polls fn until it returns nil, failing the test after d;
// it logs how long it took.
func eventually(t *testing.T, what string, d time.Duration, fn func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := fn()
		if err == nil {
			took := time.Since(start)
			t.Logf("%s after %v", what, took.Round(time.Millisecond))
			return took
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// member is one person's ssh access to each frontend.
type member struct {
	name string
	pub  string
	fp   string
	at   map[string]*person // by frontend name
}

// member makes a key for name and an ssh config for each frontend.
func (f *fleet) member(name string, hosts ...*frontend) *member {
	t := f.t
	t.Helper()
	home := filepath.Join(f.dir, "home-"+name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(home, "id_ed25519")
	m := &member{name: name, pub: sshdtest.Keygen(t, key), at: map[string]*person{}}
	m.fp = fingerprintOfLine(t, m.pub)
	for _, h := range hosts {
		dir := filepath.Join(home, h.name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		srv := h.sshd
		if srv == nil {
			srv = &sshdtest.Server{Port: h.port, HostKey: h.hostPub}
		}
		m.at[h.name] = &person{t: t, name: name, home: dir, sshCfg: srv.ClientConfig(t, dir, key, "root")}
	}
	return m
}

func fingerprintOfLine(t *testing.T, line string) string {
	t.Helper()
	k, err := sshkey.ParseLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return k.Fingerprint
}

// TestFrontendsShareState is the two-frontends story.
func TestFrontendsShareState(t *testing.T) {
	f := newFleet(t)
	a, b, c := f.frontend("a", true), f.frontend("b", true), f.frontend("c", false)
	policy := filepath.Join(f.dir, "policy.toml")
	writeFile(t, policy, frontendPolicy)
	a.admin("", "policy", "push", policy)
	for _, h := range []*frontend{a, b, c} {
		h.replicate()
	}
	hosts := []*frontend{a, b, c}
	alice, bob, carol := f.member("alice", hosts...), f.member("bob", hosts...), f.member("carol", hosts...)

	// A key added through A logs in through B, and through serve (which
	// starts only once its store has a key).
	a.admin(alice.pub+"\n", "keys", "add", "--user", "alice")
	eventually(t, "alice's key in c's replica", 5*time.Second, func() error {
		if !c.has(alice.fp) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	c.serve()
	for _, h := range []*frontend{b, c} {
		p := alice.at[h.name]
		eventually(t, "alice's key added on a logs in on "+h.name, 5*time.Second, func() error {
			out, err := p.ssh([]string{"-T"}, "whoami")
			if err != nil || !strings.Contains(out, "user alice") {
				return fmt.Errorf("whoami: %v %q", err, out)
			}
			return nil
		})
	}
	// alice, an admin, enrols bob and carol over SSH on B (the built-in
	// keys command writes PostgreSQL too); both are on A at once after.
	pa := alice.at["b"]
	for _, m := range []*member{bob, carol} {
		cmd := exec.Command("ssh", "-F", pa.sshCfg, "-T", "gitsrv", "keys", "add", "--user", m.name)
		cmd.Env = []string{"HOME=" + pa.home, "PATH=" + os.Getenv("PATH")}
		cmd.Stdin = strings.NewReader(m.pub + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ssh b keys add --user %s: %v\n%s", m.name, err, out)
		}
		if !b.has(m.fp) {
			t.Errorf("%s's key is not in b's replica when 'keys add' on b returns", m.name)
		}
	}
	eventually(t, "bob's key on a", 5*time.Second, func() error {
		if !a.has(bob.fp) {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// Repositories: created through A, pushed through B, cloned through serve.
	a.admin("", "repos", "create", "team/app")
	a.admin("", "repos", "create", "public/docs")
	bobB := bob.at["b"]
	work := filepath.Join(bobB.home, "work")
	bobB.mustGit(bobB.home, "clone", "-q", "root@gitsrv:team/app.git", work)
	writeFile(t, filepath.Join(work, "f"), "from b\n")
	bobB.mustGit(work, "add", "f")
	bobB.mustGit(work, "commit", "-q", "-m", "f")
	bobB.mustGit(work, "push", "-q", "origin", "HEAD")
	bobC := bob.at["c"]
	bobC.mustGit(bobC.home, "clone", "-q", "root@gitsrv:team/app.git", filepath.Join(bobC.home, "app"))

	// alice creates the same repository by pushing through A and B at
	// the same moment: exactly one push creates it and lands, the other
	// fails cleanly (it is decided again as a push to an existing
	// repository, whose main is now the winner's), the repository is whole.
	type result struct {
		host, out string
		err       error
	}
	res := make(chan result, 2)
	var startRace sync.WaitGroup
	startRace.Add(1)
	for _, h := range []*frontend{a, b} {
		p := alice.at[h.name]
		w := filepath.Join(p.home, "race")
		p.mustGit(p.home, "init", "-q", w)
		writeFile(t, filepath.Join(w, "who"), "via "+h.name+"\n")
		p.mustGit(w, "add", "who")
		p.mustGit(w, "commit", "-q", "-m", "via "+h.name)
		go func() {
			startRace.Wait()
			out, err := p.git(w, "push", "-q", "root@gitsrv:team/race.git", "HEAD:refs/heads/main")
			res <- result{h.name, out, err}
		}()
	}
	startRace.Done()
	landed := ""
	for range 2 {
		r := <-res
		if r.err == nil {
			landed += r.host
		} else if !strings.Contains(r.out, "rejected") && !strings.Contains(r.out, "refused") && !strings.Contains(r.out, "access denied") {
			t.Errorf("the losing push through %s failed uncleanly: %v\n%s", r.host, r.err, r.out)
		}
	}
	race := filepath.Join(f.repos, "team", "race.git")
	gitOut := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"--git-dir", race}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if len(landed) != 1 {
		t.Errorf("pushes landed through %q, want exactly one frontend", landed)
	} else if got := gitOut("log", "-1", "--format=%s", "main"); got != "via "+landed {
		t.Errorf("main is %q, want the landed push's (via %s)", got, landed)
	}
	gitOut("fsck", "--no-progress")
	if creator := gitOut("config", "gitserver.creator"); creator != "alice" {
		t.Errorf("creator %q, want alice", creator)
	}

	// bob holds a connection open on A; his key removed through B is
	// refused on that connection, and on serve.
	muxA := openMaster(t, *bob.at["a"])
	if out, err := muxA.run("", "whoami"); err != nil || !strings.Contains(out, "user bob") {
		t.Fatalf("bob whoami over the open connection on a: %v\n%s", err, out)
	}
	b.admin("", "keys", "remove", bob.fp)
	eventually(t, "bob's key removed on b refused over his open connection on a", 5*time.Second, func() error {
		out, err := muxA.gitMux(muxA.home, "ls-remote", "root@gitsrv:team/app.git")
		if err == nil || !strings.Contains(out, "repository not found or access denied") {
			return fmt.Errorf("ls-remote: %v %q", err, out)
		}
		return nil
	})
	if out, err := bobC.ssh([]string{"-T"}, "whoami"); err == nil {
		t.Errorf("bob's removed key still logs in on serve: %s", out)
	}

	// A policy pushed on A governs B: carol loses team/* there.
	carolB := carol.at["b"]
	if out, err := carolB.git(carolB.home, "ls-remote", "root@gitsrv:team/app.git"); err != nil {
		t.Fatalf("carol ls-remote on b before the policy push: %v\n%s", err, out)
	}
	writeFile(t, policy, frontendPolicyNoCarol)
	a.admin("", "policy", "push", policy)
	eventually(t, "policy pushed on a governs b", 5*time.Second, func() error {
		out, err := carolB.git(carolB.home, "ls-remote", "root@gitsrv:team/app.git")
		if err == nil || !strings.Contains(out, "repository not found or access denied") {
			return fmt.Errorf("ls-remote: %v %q", err, out)
		}
		return nil
	})

	// PostgreSQL stopped: logins go on everywhere; writes fail cleanly
	// and change nothing; started again, the replicas catch up without a
	// restart of replicate.
	if err := f.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if out, err := alice.at[h.name].ssh([]string{"-T"}, "whoami"); err != nil || !strings.Contains(out, "user alice") {
			t.Errorf("alice on %s with PostgreSQL stopped: %v\n%s", h.name, err, out)
		}
	}
	before := b.digest()
	out, err := a.try(bob.pub+"\n", "keys", "add", "--user", "bob")
	if err == nil || !strings.Contains(out, "cannot reach PostgreSQL") {
		t.Errorf("keys add with PostgreSQL stopped: %v, %q; want a clear failure", err, out)
	}
	if a.has(bob.fp) || b.digest() != before {
		t.Error("a write refused with PostgreSQL stopped changed a replica")
	}
	if err := f.pg.Start(); err != nil {
		t.Fatal(err)
	}
	a.admin(bob.pub+"\n", "keys", "add", "--user", "bob")
	eventually(t, "after PostgreSQL is back, bob's key on b", 15*time.Second, func() error {
		if !b.has(bob.fp) {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	// B's replicate killed with SIGKILL, changes meanwhile, restarted:
	// it catches up.
	b.kill9()
	a.admin("", "keys", "remove", carol.fp)
	b.replicate()
	eventually(t, "b after kill -9 and restart", 5*time.Second, func() error {
		if b.has(carol.fp) {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	for _, h := range []*frontend{b, c} {
		eventually(t, h.name+" has a's content", 5*time.Second, func() error {
			if d, want := h.digest(), a.digest(); d != want {
				return fmt.Errorf("%s %s, a %s", h.name, d, want)
			}
			return nil
		})
	}
}

// TestFrontendsConcurrentWriters: 8 writers, 4 on each of two frontends,
// add 500 keys each (20 'keys add' of 25) while both replicate: nothing
// is lost, and both replicas end with the same content.
func TestFrontendsConcurrentWriters(t *testing.T) {
	const writers, perWriter, perCall = 8, 500, 25
	f := newFleet(t)
	a, b := f.frontend("a", false), f.frontend("b", false)
	a.replicate()
	b.replicate()
	var wg sync.WaitGroup
	for w := range writers {
		h := []*frontend{a, b}[w%2]
		wg.Go(func() {
			for lo := 0; lo < perWriter; lo += perCall {
				var in strings.Builder
				for i := lo; i < lo+perCall; i++ {
					k := benchKey(w*perWriter + i)
					fmt.Fprintf(&in, "%s %s w%d-%d\n", k.Type, base64.StdEncoding.EncodeToString(k.Blob), w, i)
				}
				if out, err := h.try(in.String(), "keys", "add", "--user", fmt.Sprintf("writer%d", w), "-"); err != nil {
					t.Errorf("writer %d on %s: %v\n%s", w, h.name, err, out)
					return
				}
			}
		})
	}
	wg.Wait()
	want := fmt.Sprintf("(%d keys)", writers*perWriter)
	eventually(t, "both replicas converged", 10*time.Second, func() error {
		da, db := a.digest(), b.digest()
		if da != db || !strings.HasSuffix(da, want) {
			return fmt.Errorf("a %s, b %s; want the same, %s", da, db, want)
		}
		return nil
	})
}
