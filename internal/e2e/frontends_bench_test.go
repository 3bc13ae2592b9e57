package e2e

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/keys"
)

// BenchmarkAuthorizedKeysReplica runs 'gitserver authorized-keys' as sshd
// does against one store of 1,000,000 keys, as a local store (the
// baseline) and as a replica of PostgreSQL ([store] set: the lookup also
// reads when the replica was last confirmed current, against max_lag).
// PostgreSQL itself is not asked, and need not run.
//
//	go test ./internal/e2e -run XXX -bench AuthorizedKeysReplica -benchtime 300x
func BenchmarkAuthorizedKeysReplica(b *testing.B) {
	bin := buildBinary(b)
	const n = 1000000
	local := benchStore(b, n, 50000)
	replica := b.TempDir()
	copyStore(b, filepath.Join(local, "keys.db"), filepath.Join(replica, "keys.db"))
	st := keys.Open(filepath.Join(replica, "keys.db"), keys.Options{})
	if err := st.ApplyReplica(0, nil, 1); err != nil {
		b.Fatal(err)
	}
	k := benchKey(n / 2)
	b64 := base64.StdEncoding.EncodeToString(k.Blob)
	variantFor := func(name, dir, extra string) *variant {
		cfg := filepath.Join(b.TempDir(), "config.toml")
		writeFile(b, cfg, fmt.Sprintf("ssh_user = \"root\"\nrepos = %q\ndata_dir = %q\n[log]\nfile = %q\n%s", dir, dir, filepath.Join(b.TempDir(), "log"), extra))
		v := &variant{name: name, cmd: func() *exec.Cmd {
			return exec.Command(bin, "--config", cfg, "authorized-keys", "root", k.Type, b64)
		}}
		if out, err := v.cmd().Output(); err != nil || !strings.HasPrefix(string(out), `command="`) {
			b.Fatalf("%s: %v: %q", name, err, out)
		}
		return v
	}
	alternate(b, []*variant{
		variantFor("local", local, ""),
		// max_lag long enough for the run: the replica was confirmed
		// current once, above.
		variantFor("replica", replica, "[store]\npostgres = \"host=/nonexistent dbname=unused\"\nmax_lag = \"24h\"\n"),
	})
}

func copyStore(b *testing.B, src, dst string) {
	b.Helper()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClonesTwoFrontends clones one repository 200 times at once,
// all through one sshd frontend, then spread over two (100 each), and
// reports the wall times and their ratio. The two frontends share the
// repos root and the key store's content, as a fleet does; on separate
// hosts the ratio would be near 0.5, on one machine it shows what a
// second frontend costs or saves when both share its cores.
//
//	go test ./internal/e2e -run XXX -bench ClonesTwoFrontends -benchtime 3x
func BenchmarkClonesTwoFrontends(b *testing.B) {
	const clones = 200
	s := newServerFiles(b)
	writeFile(b, filepath.Join(s.dir, "policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"@all\"]\naccess = \"write\"\n")
	repo := filepath.Join(s.repos, "team", "app.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", repo).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	seedRefs(b, repo, 20)
	// Enough startups for 200 logins at once, and no grace time: on 2
	// cores the last of them authenticates after a minute or more.
	body := s.sshdConfig("GIT_PROTOCOL") + "MaxStartups 400:30:800\nLoginGraceTime 0\n"
	front := []*sshdtest.Server{sshdtest.Start(b, body), sshdtest.Start(b, body)}
	home := filepath.Join(s.dir, "home")
	os.MkdirAll(home, 0o700)
	key := filepath.Join(home, "id_ed25519")
	pub := sshdtest.Keygen(b, key)
	s.admin(pub+"\n", "keys", "add", "--user", "alice")
	cfgs := make([]string, len(front))
	for i, f := range front {
		dir := filepath.Join(home, fmt.Sprint(i))
		os.MkdirAll(dir, 0o700)
		cfgs[i] = f.ClientConfig(b, dir, key, "root")
		// 200 logins at once keep 2 cores busy for seconds: wait for
		// the banner longer than the tests do.
		body, err := os.ReadFile(cfgs[i])
		if err != nil {
			b.Fatal(err)
		}
		writeFile(b, cfgs[i], strings.Replace(string(body), "ConnectTimeout 10", "ConnectTimeout 300", 1))
	}
	cloneAll := func(spread int) time.Duration {
		dst := b.TempDir()
		var wg sync.WaitGroup
		errs := make(chan error, clones)
		start := time.Now()
		for i := range clones {
			wg.Go(func() {
				cmd := exec.Command("git", "clone", "-q", "--bare", "root@gitsrv:team/app.git", filepath.Join(dst, fmt.Sprint(i)))
				cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_SSH_COMMAND=ssh -F " + cfgs[i%spread]}
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("clone %d: %v: %s", i, err, out)
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		return took
	}
	var one, two []time.Duration
	b.ResetTimer()
	for range b.N {
		one = append(one, cloneAll(1))
		two = append(two, cloneAll(2))
	}
	b.StopTimer()
	b.ReportMetric(float64(median(one).Milliseconds()), "one-frontend-ms")
	b.ReportMetric(float64(median(two).Milliseconds()), "two-frontends-ms")
	b.ReportMetric(float64(median(two))/float64(median(one)), "two/one")
}
