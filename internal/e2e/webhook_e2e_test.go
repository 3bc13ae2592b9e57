package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/gitserver/gitserver/internal/webhook"
)

// receiver is a webhook endpoint on loopback that records what it gets,
// answering with the statuses in plan first, then 200.
type receiver struct {
	mu    sync.Mutex
	got   []received
	plan  []int
	hang  bool
	srv   *http.Server
	url   string
	calls int
}

type received struct {
	id, sig, event string
	body           []byte
}

func newReceiver(t testing.TB, plan ...int) *receiver {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{plan: plan, url: "http://" + l.Addr().String() + "/hook"}
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls++
		hang := r.hang
		code := 200
		if len(r.plan) > 0 {
			code, r.plan = r.plan[0], r.plan[1:]
		}
		if code == 200 && !hang {
			r.got = append(r.got, received{req.Header.Get("X-Gitserver-Delivery"), req.Header.Get("X-Gitserver-Signature-256"), req.Header.Get("X-Gitserver-Event"), body})
		}
		r.mu.Unlock()
		if hang {
			<-req.Context().Done()
			return
		}
		w.WriteHeader(code)
	})}
	go r.srv.Serve(l)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// distinct is how many different delivery ids were answered 200.
func (r *receiver) distinct() int {
	ids := map[string]bool{}
	for _, d := range r.deliveries() {
		ids[d.id] = true
	}
	return len(ids)
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const webhookSecret = "s3cret-for-tests-only"

// TestWebhooks pushes through sshd with a delivery worker ('gitserver
// deliver') beside: one push of three refs is one signed delivery;
// a receiver failing twice gets it on the third try; a receiver that
// never answers does not slow the push; a worker killed mid-queue and
// started again delivers everything at least once, with ids to dedupe;
// a metadata address is refused.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	secret := filepath.Join(s.dir, "hook.secret")
	writeFile(t, secret, webhookSecret+"\n")
	ok, flaky, hung := newReceiver(t), newReceiver(t, 500, 500), newReceiver(t)
	hung.hang = true
	pol := lfsPolicy
	// The hung receiver's timeout is the longest there is: a push that
	// waited for its delivery would take a minute.
	for _, w := range []struct{ url, repos, timeout string }{{ok.url, "team/app", "2s"}, {flaky.url, "team/flaky", "2s"}, {hung.url, "team/hung", "1m"}, {"http://169.254.169.254/latest", "team/meta", "2s"}} {
		pol += fmt.Sprintf("\n[[webhook]]\nurl = %q\nsecret_file = %q\nrepos = [%q]\nevents = [\"push\", \"tag\"]\nallow_private = true\ntimeout = %q\n", w.url, secret, w.repos, w.timeout)
	}
	writeFile(t, filepath.Join(s.dir, "policy.toml"), pol)
	alice := s.newClient("alice", true)
	for _, r := range []string{"team/app", "team/flaky", "team/hung", "team/meta"} {
		s.admin("", "repos", "create", r)
	}
	bin := sshdtest.InstallBinary(t, buildBinary(t), "gitserver", "gitserver-deliver")
	// The worker's own metrics: its queue and delivery results.
	mport := sshdtest.FreePort(t)
	cfg, _ := os.ReadFile(s.cfg)
	writeFile(t, s.cfg, fmt.Sprintf("metrics_listen = \"127.0.0.1:%d\"\n", mport)+string(cfg))
	m := metricsClient{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", mport)}
	worker := startWorker(t, bin, s.cfg, "--first-retry", "200ms")

	aw := filepath.Join(alice.home, "app")
	alice.mustGit(alice.home, "clone", "-q", "root@gitsrv:team/app.git", aw)
	writeFile(t, filepath.Join(aw, "a"), "a\n")
	alice.mustGit(aw, "add", "a")
	alice.mustGit(aw, "commit", "-q", "-m", "first")
	alice.mustGit(aw, "tag", "v1")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main", "HEAD:dev", "v1")
	waitFor(t, "the delivery of the three-ref push", func() bool { return len(ok.deliveries()) == 1 })
	d := ok.deliveries()[0]
	if d.sig != webhook.Sign([]byte(webhookSecret), d.body) {
		t.Fatalf("bad signature %q", d.sig)
	}
	var body webhook.Body
	if err := json.Unmarshal(d.body, &body); err != nil || len(body.Refs) != 3 || body.Pusher.User != "alice" || body.Repository != "team/app" || d.event != "push,tag" {
		t.Fatalf("delivery: %v %s (event %q)", err, d.body, d.event)
	}
	for _, r := range body.Refs {
		if r.Kind != "create" || (r.Ref != "refs/tags/v1" && len(r.Commits) != 1) {
			t.Errorf("ref change %+v", r)
		}
	}

	for _, repo := range []string{"team/flaky", "team/meta"} {
		alice.mustGit(aw, "push", "-q", "root@gitsrv:"+repo+".git", "HEAD:main")
	}
	alice.mustGit(aw, "push", "-q", "root@gitsrv:team/hung.git", "HEAD:main")
	// The push is back; its delivery is still waiting or in flight.
	if out := s.admin("", "hooks", "deliveries"); !strings.Contains(out, hung.url) {
		t.Errorf("the hung receiver's delivery is not pending after the push returned:\n%s", out)
	}
	waitFor(t, "the third try to the flaky receiver", func() bool { return len(flaky.deliveries()) == 1 })
	flaky.mu.Lock()
	calls := flaky.calls
	flaky.mu.Unlock()
	if calls != 3 {
		t.Errorf("the flaky receiver was called %d times, want 3", calls)
	}
	waitFor(t, "the metadata delivery to fail for good", func() bool {
		out := s.admin("", "hooks", "deliveries", "--failed")
		return strings.Contains(out, "169.254.169.254") && strings.Contains(out, "not allowed")
	})

	// app's, then flaky's on its third try: 2 ok, 2 retries, and the
	// metadata address failed for good at once.
	m.waitFor(map[string]float64{}, map[string]float64{
		"gitserver_webhook_deliveries_total{result=ok}":     2,
		"gitserver_webhook_deliveries_total{result=retry}":  2,
		"gitserver_webhook_deliveries_total{result=failed}": 1,
	})
	if code, body := m.get("/ready"); code != 200 {
		t.Errorf("the worker's /ready: %d %q", code, body)
	}

	// Kill -9 the worker with deliveries queued, start it again.
	syscall.Kill(-worker.Process.Pid, syscall.SIGKILL)
	worker.Wait()
	// The repository's own post-receive runs after gitserver's queued
	// the deliveries.
	rec := filepath.Join(s.dir, "post-receive-ran")
	own := filepath.Join(s.repos, "team/app.git/hooks/post-receive")
	writeFile(t, own, "#!/bin/sh\n{ echo \"post-receive $*\"; cat; } >> "+rec+"\n")
	os.Chmod(own, 0o755)
	for i := range 5 {
		writeFile(t, filepath.Join(aw, fmt.Sprint("k", i)), "k\n")
		alice.mustGit(aw, "add", ".")
		alice.mustGit(aw, "commit", "-q", "-m", fmt.Sprint("k", i))
		alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")
	}
	if out := s.admin("", "hooks", "deliveries"); strings.Count(out, ok.url) < 5 {
		t.Fatalf("%d deliveries waiting for the app receiver, want 5 or more:\n%s", strings.Count(out, ok.url), out)
	}
	if got, err := os.ReadFile(rec); err != nil || strings.Count(string(got), "post-receive \n") != 5 || strings.Count(string(got), " refs/heads/main\n") != 5 {
		t.Errorf("the repository's post-receive ran as %q, %v; want once for each of 5 pushes", got, err)
	}
	startWorker(t, bin, s.cfg, "--first-retry", "200ms")
	waitFor(t, "the queued deliveries after the restart", func() bool { return ok.distinct() == 6 })
}

// startWorker runs 'gitserver deliver' as installed (bin, with
// gitserver-deliver beside it), with extra flags; it is killed when the
// test ends.
func startWorker(t testing.TB, bin, cfg string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--config", cfg, "deliver"}, extra...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return cmd
}
