package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// BenchmarkPushWebhook pushes one commit (a fast-forward of a branch)
// through sshd and gitserver with and without a [[webhook]] for the
// repository in the policy (the policy file is rewritten before each
// push, untimed: gitserver reads it on every request). With it, the
// post-receive hook queues a signed delivery in data_dir/webhooks.db and
// returns; a delivery worker ('gitserver deliver') runs throughout and
// sends each to a receiver on loopback, which must have got one per push
// with the webhook (so the benchmark cannot pass with nothing queued).
//
//	go test ./internal/e2e -run XXX -bench 'PushWebhook$' -benchtime 40x
func BenchmarkPushWebhook(b *testing.B) {
	s := newBenchServer(b)
	alice := s.client
	s.admin("", "repos", "create", "team/app")
	seedRefs(b, filepath.Join(s.repos, "team/app.git"), 20)
	rcv := newReceiver(b)
	secret := filepath.Join(s.dir, "hook.secret")
	writeFile(b, secret, "s3cret-for-benchmarks-only\n")
	policy := filepath.Join(s.dir, "policy.toml")
	hooked := e2ePolicy + fmt.Sprintf("\n[[webhook]]\nurl = %q\nsecret_file = %q\nrepos = [\"team/app\"]\nevents = [\"push\"]\nallow_private = true\n", rcv.url, secret)
	startWorker(b, sshdtest.InstallBinary(b, buildBinary(b), "gitserver", "gitserver-deliver"), s.cfg)

	work := filepath.Join(alice.home, "work")
	alice.mustGit(alice.home, "clone", "-q", "root@gitsrv:team/app.git", work)
	alice.mustGit(work, "checkout", "-q", "b0")
	n := 0
	push := func(pol string) func() *exec.Cmd {
		return func() *exec.Cmd {
			writeFile(b, policy, pol)
			n++
			writeFile(b, filepath.Join(work, "f"), fmt.Sprintf("%d\n", n))
			alice.mustGit(work, "commit", "-q", "-a", "-m", fmt.Sprint(n))
			c := exec.Command("git", "push", "-q", "origin", "HEAD:refs/heads/b0")
			c.Dir, c.Env = work, alice.env()
			return c
		}
	}
	vs := []*variant{
		{name: "plain", cmd: push(e2ePolicy)},
		{name: "webhook", cmd: push(hooked)},
	}
	alternate(b, vs)
	b.ReportMetric(float64(median(vs[1].took)-median(vs[0].took))/1e6, "added-ms")
	want := len(vs[1].took) + 1 // and the warm-up push
	deadline := time.Now().Add(time.Minute)
	for rcv.distinct() < want {
		if time.Now().After(deadline) {
			b.Fatalf("the receiver got %d deliveries, want %d (one per push with the webhook)", rcv.distinct(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := rcv.distinct(); got != want {
		b.Fatalf("the receiver got %d deliveries, want %d: pushes without the webhook were delivered", got, want)
	}
}
