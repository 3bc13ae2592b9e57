package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys"
)

// The benchmarks run whole processes, alternating the variants within one
// run, and report medians and ratios against a baseline measured in the
// same run (never timed assertions). See README "Performance".

// benchKey is the i-th benchmark key: a valid ed25519 public key (any 32
// bytes are one to ssh.ParsePublicKey). Never a real key.
func benchKey(i int) keys.Key {
	seed := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	blob := ssh.Marshal(struct {
		Type string
		Key  []byte
	}{ssh.KeyAlgoED25519, seed[:]})
	pk, err := ssh.ParsePublicKey(blob)
	if err != nil {
		panic(err)
	}
	return keys.Key{Type: pk.Type(), Blob: blob, Fingerprint: ssh.FingerprintSHA256(pk)}
}

// benchStore returns a key store with n keys held by users users (key i
// is user i%users's: "user0", "user1", ...), built once and cached in the
// user's cache directory (a million keys take a minute to import).
func benchStore(b *testing.B, n, users int) string {
	b.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(cache, "gitserver-bench", fmt.Sprintf("store-%d-%d", n, users))
	path := filepath.Join(dir, "keys.db")
	if st := keys.Open(path, keys.Options{}); countIs(st, n) {
		return dir
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	st := keys.Open(path, keys.Options{})
	const batch = 20000
	start := time.Now()
	for lo := 0; lo < n; lo += batch {
		recs := make([]keys.Record, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			recs = append(recs, keys.Record{User: fmt.Sprintf("user%d", i%users), Key: benchKey(i)})
		}
		if _, errs, err := st.Import(recs); err != nil || len(errs) > 0 {
			b.Fatal(err, errs)
		}
	}
	b.Logf("built a store of %d keys in %v", n, time.Since(start))
	return dir
}

func countIs(st *keys.Store, n int) bool {
	c, err := st.Count()
	return err == nil && c == n
}

// helloBinary builds a Go hello-world: the floor for any Go process.
func helloBinary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	writeFile(b, filepath.Join(dir, "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n")
	writeFile(b, filepath.Join(dir, "go.mod"), "module hello\n\ngo 1.26\n")
	cmd := exec.Command("go", "build", "-o", "hello", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	return filepath.Join(dir, "hello")
}

// linkOnlyBinary builds testdata/linkonly, built as gitserver is: every
// package gitserver links, and a main that only prints hello.
func linkOnlyBinary(b *testing.B) string {
	b.Helper()
	out := filepath.Join(b.TempDir(), "linkonly")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/linkonly")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, msg)
	}
	return out
}

// variant is one command measured in an alternating benchmark.
type variant struct {
	name string
	cmd  func() *exec.Cmd
	took []time.Duration
}

// alternate runs every variant once per iteration, in turn, and reports
// each one's median in ms and its ratio to the first (the baseline).
func alternate(b *testing.B, vs []*variant) {
	b.Helper()
	for _, v := range vs { // warm caches
		runOnce(b, v)
		v.took = v.took[:0]
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, v := range vs {
			runOnce(b, v)
		}
	}
	b.StopTimer()
	base := median(vs[0].took)
	for _, v := range vs {
		m := median(v.took)
		b.ReportMetric(float64(m.Microseconds())/1000, v.name+"-ms")
		if v != vs[0] {
			b.ReportMetric(float64(m)/float64(base), v.name+"/"+vs[0].name)
		}
	}
}

func runOnce(b *testing.B, v *variant) {
	cmd := v.cmd()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	v.took = append(v.took, time.Since(start))
	if err != nil {
		b.Fatalf("%s: %v\n%s", v.name, err, out.String())
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkAuthorizedKeys runs 'gitserver authorized-keys' as a whole
// process, as sshd does, against stores of 1,000 and 1,000,000 keys, and
// a Go hello-world as the baseline; linkonly is a hello-world that links
// everything gitserver links, so that what is start-up of a Go program
// this size and what is gitserver's own work can be told apart.
//
//	go test ./internal/e2e -run XXX -bench 'AuthorizedKeys$' -benchtime 300x
func BenchmarkAuthorizedKeys(b *testing.B) {
	bin := buildBinary(b)
	hello := helloBinary(b)
	linked := linkOnlyBinary(b)
	vs := []*variant{
		{name: "hello", cmd: func() *exec.Cmd { return exec.Command(hello) }},
		{name: "linkonly", cmd: func() *exec.Cmd { return exec.Command(linked) }},
	}
	for _, n := range []int{1000, 1000000} {
		dir := benchStore(b, n, 50000)
		cfg := filepath.Join(b.TempDir(), "config.toml")
		writeFile(b, cfg, fmt.Sprintf("ssh_user = \"root\"\nrepos = %q\ndata_dir = %q\n[log]\nfile = %q\n", dir, dir, filepath.Join(b.TempDir(), "log")))
		k := benchKey(n / 2)
		b64 := base64.StdEncoding.EncodeToString(k.Blob)
		v := &variant{name: fmt.Sprintf("keys%d", n), cmd: func() *exec.Cmd {
			return exec.Command(bin, "--config", cfg, "authorized-keys", "root", k.Type, b64)
		}}
		// Measure the real answer: one forced-command line.
		if out, err := v.cmd().Output(); err != nil || !strings.HasPrefix(string(out), `command="`) {
			b.Fatalf("%s: %v: %q", v.name, err, out)
		}
		vs = append(vs, v)
	}
	alternate(b, vs)
}

// BenchmarkShell measures 'gitserver shell' up to and including running
// git-upload-pack (a ref advertisement answered by a flush) against
// running git-upload-pack directly on the same repository, with a store of
// 1,000 keys and one of 1,000,000 keys held by 1,000 users (1,000 keys
// each: the shape of a store with many bot or deploy keys). Each run
// checks, as every request does, that the key is still the user's, that
// the user still exists and what the policy says now. The last variant
// has a policy of 2,001 rules: what a big policy adds to every request.
//
//	go test ./internal/e2e -run XXX -bench 'Shell$' -benchtime 300x
//
// With GITSERVER_BENCH_BASELINE=/path/to/gitserver, that build runs too.
func BenchmarkShell(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	repos := filepath.Join(dir, "repos")
	writeFile(b, filepath.Join(dir, "policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"write\"\n")
	repo := filepath.Join(repos, "team/app.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", repo).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	seedRefs(b, repo, 20)
	git, _ := exec.LookPath("git")
	hello := helloBinary(b)
	vs := []*variant{
		{name: "upload-pack", cmd: func() *exec.Cmd {
			c := exec.Command(git, "upload-pack", repo)
			c.Stdin = strings.NewReader("0000")
			return c
		}},
		{name: "hello", cmd: func() *exec.Cmd { return exec.Command(hello) }},
	}
	// shell runs bin as sshd's forced command for user0, with the config
	// for n keys and the policy file named.
	shell := func(name, bin string, n int, policyFile string) *variant {
		cfg := filepath.Join(dir, fmt.Sprintf("config-%d-%s", n, policyFile))
		writeFile(b, cfg, fmt.Sprintf("ssh_user = \"root\"\nrepos = %q\ndata_dir = %q\npolicy = %q\n[log]\nfile = %q\n",
			repos, benchStore(b, n, 1000), policyFile, filepath.Join(dir, "log")))
		k := benchKey(n / 2 / 1000 * 1000) // user0's, one of 1,000 (or one) keys
		v := &variant{name: name, cmd: func() *exec.Cmd {
			c := exec.Command(bin, "--config", cfg, "shell", "--user", "user0", "--key", k.Fingerprint)
			c.Env = []string{"SSH_ORIGINAL_COMMAND=git-upload-pack 'team/app.git'"}
			c.Stdin = strings.NewReader("0000")
			return c
		}}
		if out, err := v.cmd().CombinedOutput(); err != nil || !bytes.HasPrefix(out, []byte("0")) {
			b.Fatalf("%s: %v: %q", v.name, err, out)
		}
		return v
	}
	vs = append(vs, shell("shell1000", bin, 1000, "policy.toml"), shell("shell1000000", bin, 1000000, "policy.toml"))
	// GITSERVER_BENCH_BASELINE names another build of gitserver (an
	// earlier commit's, say) to run beside this one at 1,000,000 keys:
	// a change's effect, measured in one run.
	if baseline := os.Getenv("GITSERVER_BENCH_BASELINE"); baseline != "" {
		vs = append(vs, shell("baseline1000000", baseline, 1000000, "policy.toml"))
	}
	// The same request with a policy of 2,001 rules, the shape of a
	// gitolite import of 1,000 repositories (two rules each), before the
	// rule that decides: every shell run parses the whole file.
	var big strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&big, "[[rule]]\nrepos = [\"team%d/app%d\"]\nusers = [\"user%d\", \"user%d\"]\naccess = \"write\"\n\n", i, i, i, i+1)
		fmt.Fprintf(&big, "[[rule]]\nrepos = [\"team%d/app%d\"]\nusers = [\"@all\"]\naccess = \"read\"\n\n", i, i)
	}
	big.WriteString("[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"write\"\n")
	writeFile(b, filepath.Join(dir, "policy-2001.toml"), big.String())
	vs = append(vs, shell("shell1000000-rules2001", bin, 1000000, "policy-2001.toml"))
	if baseline := os.Getenv("GITSERVER_BENCH_BASELINE"); baseline != "" {
		vs = append(vs, shell("baseline1000000-rules2001", baseline, 1000000, "policy-2001.toml"))
	}
	alternate(b, vs)
	// What the shell adds to git, in ms and in Go hello-world starts
	// measured in the same run: how fast this machine starts a process
	// sets most of it.
	for _, v := range vs[2:] {
		added := median(v.took) - median(vs[0].took)
		b.ReportMetric(float64(added)/1e6, v.name+"-added-ms")
		b.ReportMetric(float64(added)/float64(median(vs[1].took)), v.name+"-added/hello")
	}
}

// seedRefs makes n branches in a bare repository.
func seedRefs(b *testing.B, repo string, n int) {
	b.Helper()
	work := b.TempDir()
	run := func(dir string, args ...string) {
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@x", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@x")
		if out, err := c.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run(work, "init", "-q")
	writeFile(b, filepath.Join(work, "f"), "x\n")
	run(work, "add", "f")
	run(work, "commit", "-q", "-m", "x")
	for i := 0; i < n; i++ {
		run(work, "branch", fmt.Sprintf("b%d", i))
	}
	run(work, "push", "-q", repo, "--all")
}

// BenchmarkLsRemote runs 'git ls-remote' through one real sshd two ways:
// gitserver (AuthorizedKeysCommand + forced shell) and, as the baseline,
// git-shell behind a plain authorized_keys file.
//
//	go test ./internal/e2e -run XXX -bench '^BenchmarkLsRemote$' -benchtime 40x
func BenchmarkLsRemote(b *testing.B) {
	s := newBenchServer(b)
	alice := s.client
	s.admin("", "repos", "create", "team/app")
	seedRefs(b, filepath.Join(s.repos, "team/app.git"), 20)
	env := []string{"HOME=" + alice.home, "PATH=" + os.Getenv("PATH"), "GIT_SSH_COMMAND=ssh -F " + alice.sshCfg}
	vs := []*variant{
		{name: "git-shell", cmd: func() *exec.Cmd {
			c := exec.Command("git", "ls-remote", "root@gitshell:"+filepath.Join(s.repos, "team/app.git"))
			c.Env = env
			return c
		}},
		{name: "gitserver", cmd: func() *exec.Cmd {
			c := exec.Command("git", "ls-remote", "root@gitsrv:team/app.git")
			c.Env = env
			return c
		}},
	}
	alternate(b, vs)
}

// BenchmarkPush pushes one commit (a fast-forward of an existing branch)
// through one real sshd two ways: gitserver, whose pre-receive hook
// checks the ref against the policy, and, as the baseline, git-shell
// behind a plain authorized_keys file, which runs no hooks. Both push to
// the same repository from the same clone, in turn; the commit is made
// before the clock starts.
//
//	go test ./internal/e2e -run XXX -bench '^BenchmarkPush$' -benchtime 40x
func BenchmarkPush(b *testing.B) {
	s := newBenchServer(b)
	alice := s.client
	s.admin("", "repos", "create", "team/app")
	repo := filepath.Join(s.repos, "team/app.git")
	seedRefs(b, repo, 20)
	work := filepath.Join(alice.home, "work")
	alice.mustGit(alice.home, "clone", "-q", "root@gitsrv:team/app.git", work)
	alice.mustGit(work, "checkout", "-q", "b0")
	n := 0
	push := func(url string) func() *exec.Cmd {
		return func() *exec.Cmd {
			n++
			writeFile(b, filepath.Join(work, "f"), fmt.Sprintf("%d\n", n))
			alice.mustGit(work, "commit", "-q", "-a", "-m", fmt.Sprint(n))
			c := exec.Command("git", "push", "-q", url, "HEAD:refs/heads/b0")
			c.Dir, c.Env = work, alice.env()
			return c
		}
	}
	vs := []*variant{
		{name: "git-shell", cmd: push("root@gitshell:" + repo)},
		{name: "gitserver", cmd: push("root@gitsrv:team/app.git")},
	}
	alternate(b, vs)
	b.ReportMetric(float64(median(vs[1].took)-median(vs[0].took))/1e6, "added-ms")
	if log, _ := os.ReadFile(filepath.Join(s.data, "gitserver.log")); !strings.Contains(string(log), `ref="refs/heads/b0" op=update decision=allow`) {
		b.Fatalf("gitserver's pushes were not checked:\n%s", log)
	}
}

// benchServer is one sshd serving gitserver on its first port and, on a
// second port, git-shell behind a plain authorized_keys file; one client
// key. One sshd for both, so that the comparison is of the two ways only,
// not of two sshd instances.
type benchServer struct {
	*server
	client *client
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	s := newServerFiles(b)
	home := filepath.Join(s.dir, "home")
	os.MkdirAll(home, 0o700)
	key := filepath.Join(home, "id_ed25519")
	pub := sshdtest.Keygen(b, key)
	ak := filepath.Join(s.dir, "authorized_keys")
	writeFile(b, ak, pub+"\n")
	plainPort := sshdtest.FreePort(b)
	s.sshd = sshdtest.Start(b, fmt.Sprintf(`Port %d
%sMatch LocalPort %d
	AuthorizedKeysFile %s
	AuthorizedKeysCommand none
	PermitRootLogin prohibit-password
	ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"
`, plainPort, s.sshdConfig("GIT_PROTOCOL"), plainPort, ak))
	c := &client{person: person{t: b, name: "alice", home: home}, s: s, pub: pub}
	body, err := os.ReadFile(s.sshd.ClientConfig(b, home, key, "root"))
	if err != nil {
		b.Fatal(err)
	}
	plain := strings.Replace(strings.Replace(string(body), "Host gitsrv", "Host gitshell", 1),
		fmt.Sprintf("Port %d\n", s.sshd.Port), fmt.Sprintf("Port %d\n", plainPort), 1)
	c.sshCfg = filepath.Join(home, "both_config")
	writeFile(b, c.sshCfg, string(body)+plain)
	s.admin(pub+"\n", "keys", "add", "--user", "alice")
	return &benchServer{server: s, client: c}
}
