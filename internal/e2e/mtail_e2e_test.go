package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMtailRules feeds the log of real requests through serve to mtail
// with contrib/mtail's program: the request counters and duration
// histograms come out by command and decision.
func TestMtailRules(t *testing.T) {
	t.Parallel()
	mtail, err := exec.LookPath("mtail")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mtail not installed (apt-get install mtail): %v", err)
		}
		t.Skip("mtail not installed")
	}
	s := newServed(t, "")
	writeFile(t, filepath.Join(s.dir, "policy.toml"), lfsPolicy)
	alice, bob := s.client("alice", true), s.client("bob", true)
	s.repo("team/assets")
	s.start()
	aw := filepath.Join(alice.home, "w")
	alice.mustGit(alice.home, "clone", "-q", "git@gitsrv:team/assets.git", aw)
	writeFile(t, filepath.Join(aw, "a"), "a\n")
	alice.mustGit(aw, "add", "a")
	alice.mustGit(aw, "commit", "-q", "-m", "a")
	alice.mustGit(aw, "push", "-q", "origin", "HEAD:main")
	if out, err := bob.push("git@gitsrv:team/assets.git", "b"); err == nil {
		t.Fatalf("bob pushed:\n%s", out)
	}
	progs, _ := filepath.Abs("../../contrib/mtail")
	out, err := exec.Command(mtail, "--one_shot", "--one_shot_format=prometheus", "--progs", progs, "--logs", filepath.Join(s.data, "gitserver.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("mtail: %v\n%s", err, out)
	}
	for _, want := range []string{
		`gitserver_requests_total{command="git-upload-pack",decision="allow",prog="gitserver.mtail"} 2`,
		`gitserver_requests_total{command="git-receive-pack",decision="allow",prog="gitserver.mtail"} 1`,
		`gitserver_requests_total{command="git-receive-pack",decision="deny",prog="gitserver.mtail"} 1`,
		`gitserver_request_duration_seconds_count{command="git-receive-pack",prog="gitserver.mtail"} 2`,
		`gitserver_ref_updates_total{prog="gitserver.mtail",result="allow"} 1`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("mtail output lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("mtail:\n%s\nlog:\n%s", out, s.log())
	}
}
