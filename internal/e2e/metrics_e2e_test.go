package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// metricsClient reads a metrics endpoint.
type metricsClient struct {
	t    *testing.T
	base string
}

func (m metricsClient) get(path string) (int, string) {
	m.t.Helper()
	resp, err := http.Get(m.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape parses /metrics with Prometheus's own parser into "name{l=v,...}"
// → value (a histogram's sample count for its name).
func (m metricsClient) scrape() map[string]float64 {
	m.t.Helper()
	code, body := m.get("/metrics")
	if code != 200 {
		m.t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		m.t.Fatalf("/metrics does not parse with expfmt: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, s := range f.Metric {
			out[seriesName(name, s)] = sampleValue(s)
		}
	}
	return out
}

func seriesName(name string, s *dto.Metric) string {
	var ls []string
	for _, l := range s.Label {
		ls = append(ls, l.GetName()+"="+l.GetValue())
	}
	return name + "{" + strings.Join(ls, ",") + "}"
}

func sampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	}
	return 0
}

// waitFor polls until every series in want has its value (baseline
// plus the delta), and returns the last scrape.
func (m metricsClient) waitFor(base map[string]float64, want map[string]float64) map[string]float64 {
	m.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		now := m.scrape()
		ok := true
		for k, d := range want {
			if now[k] != base[k]+d {
				ok = false
			}
		}
		if ok {
			return now
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for k, d := range want {
				fmt.Fprintf(&b, "%s: %v, want %v\n", k, now[k], base[k]+d)
			}
			m.t.Fatalf("metrics did not move as expected:\n%s", b.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// withDeliver is a gitserver with gitserver-deliver beside it where
// gitserver runs its helpers: a directory only its owner can write
// (as root, one in /usr/local/libexec; else the build's own, under a
// private TMPDIR).
func withDeliver(t *testing.T) string {
	if os.Geteuid() == 0 {
		return sshdtest.InstallBinary(t, buildBinary(t), "gitserver", "gitserver-deliver")
	}
	return buildBinary(t)
}

// TestServeMetrics: serve with metrics_listen; after a clone, a push and
// a denied push, each request, connection and authentication counter
// moved by exactly one (and none of the others); an unknown key counts
// as a failed authentication and connection; /health and /ready answer;
// scheduled maintenance counts its runs.
func TestServeMetrics(t *testing.T) {
	t.Parallel()
	s := newServed(t, "")
	s.bin = withDeliver(t)
	mport := sshdtest.FreePort(t)
	cfg, _ := os.ReadFile(s.cfg)
	writeFile(t, s.cfg, strings.Replace(string(cfg), "[log]",
		fmt.Sprintf("metrics_listen = \"127.0.0.1:%d\"\n[maintain]\ninterval = \"1s\"\n[log]", mport), 1))
	alice := s.client("alice", true)
	bob := s.client("bob", true)
	carol := s.client("carol", false)
	s.repo("team/app")
	s.start()
	m := metricsClient{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", mport)}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := m.get("/ready")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready: %d %q", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := m.get("/health"); code != 200 || body != "ok\n" {
		t.Errorf("/health: %d %q", code, body)
	}

	base := m.scrape()
	ok := func(svc, res string) string {
		return fmt.Sprintf("gitserver_requests_total{result=%s,service=%s}", res, svc)
	}
	conn := func(res string) string { return "gitserver_connections_total{result=" + res + "}" }
	auth := func(res string) string { return "gitserver_authentications_total{result=" + res + "}" }

	work := filepath.Join(alice.home, "w")
	alice.mustGit(alice.home, "clone", "-q", "gitsrv:team/app.git", work)
	m.waitFor(base, map[string]float64{ok("git-upload-pack", "ok"): 1, conn("ok"): 1})
	writeFile(t, filepath.Join(work, "a.txt"), "a\n")
	alice.mustGit(work, "add", "a.txt")
	alice.mustGit(work, "commit", "-q", "-m", "a")
	alice.mustGit(work, "push", "-q", "origin", "HEAD:main")
	m.waitFor(base, map[string]float64{ok("git-receive-pack", "ok"): 1, conn("ok"): 2})
	bw := filepath.Join(bob.home, "w")
	bob.mustGit(bob.home, "init", "-q", bw)
	writeFile(t, filepath.Join(bw, "b.txt"), "b\n")
	bob.mustGit(bw, "add", "b.txt")
	bob.mustGit(bw, "commit", "-q", "-m", "b")
	if out, err := bob.git(bw, "push", "-q", "gitsrv:team/app.git", "HEAD:main"); err == nil {
		t.Fatalf("bob pushed to team/app:\n%s", out)
	}
	want := map[string]float64{
		ok("git-upload-pack", "ok"):         1,
		ok("git-receive-pack", "ok"):        1,
		ok("git-receive-pack", "denied"):    1,
		conn("ok"):                          3,
		conn("failed"):                      0,
		auth("ok"):                          3,
		"gitserver_connections_in_flight{}": 0,
		"gitserver_request_duration_seconds{service=git-upload-pack}":  1,
		"gitserver_request_duration_seconds{service=git-receive-pack}": 2,
		"gitserver_key_lookup_duration_seconds{}":                      3,
		"gitserver_metrics_events_dropped_total{}":                     0,
	}
	after := m.waitFor(base, want)
	// Nothing else moved: every other request, connection and
	// authentication series is where it was.
	for k, v := range after {
		if _, checked := want[k]; checked {
			continue
		}
		if strings.HasPrefix(k, "gitserver_requests_total") || strings.HasPrefix(k, "gitserver_connections_total") || strings.HasPrefix(k, "gitserver_authentications_total") {
			if v != base[k] {
				t.Errorf("%s moved from %v to %v", k, base[k], v)
			}
		}
	}
	for _, k := range []string{"gitserver_request_received_bytes_total{service=git-receive-pack}", "gitserver_request_sent_bytes_total{service=git-upload-pack}"} {
		if after[k] <= base[k] {
			t.Errorf("%s did not grow: %v", k, after[k])
		}
	}
	for k := range after {
		if strings.Contains(k, "team/app") {
			t.Errorf("a per-repository series without metrics_repo_labels: %s", k)
		}
	}
	build := false
	for k, v := range after {
		if strings.HasPrefix(k, "gitserver_build_info{") && v == 1 {
			build = true
		}
	}
	if !build {
		t.Error("no gitserver_build_info series")
	}

	// A key the server does not know: one failed authentication, one
	// failed connection.
	if out, err := carol.git(carol.home, "ls-remote", "gitsrv:team/app.git"); err == nil {
		t.Fatalf("carol's unknown key was let in:\n%s", out)
	}
	m.waitFor(after, map[string]float64{auth("unknown_key"): 1, conn("failed"): 1, auth("ok"): 0})

	// serve's maintenance schedule (every second here) counts its runs.
	deadline = time.Now().Add(30 * time.Second)
	for m.scrape()["gitserver_maintenance_runs_total{result=ok}"] < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no maintenance run counted:\n%s", lastLines(s.log(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
