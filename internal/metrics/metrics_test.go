package metrics

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gitserver/gitserver/internal/metrics/event"
)

// scrape GETs /metrics and parses it with Prometheus's own parser.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value is the counter, gauge or histogram count of the series of name
// with exactly labels; -1 when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestApply(t *testing.T) {
	m := New(true, false)
	for _, e := range []event.Event{
		{Kind: event.State, Ready: true},
		{Kind: event.ConnOpen, InFlight: 1},
		{Kind: event.ConnOpen, InFlight: 2},
		{Kind: event.Auth, Result: "ok"},
		{Kind: event.Auth, Result: "unknown_key"},
		{Kind: event.Auth, Result: "made up"},
		{Kind: event.KeyLookup, Seconds: 0.0002},
		{Kind: event.Request, Service: "git-upload-pack", Result: "ok", Seconds: 0.2, In: 100, Out: 5000, Repo: "team/app"},
		{Kind: event.Request, Service: "git-receive-pack", Result: "denied", Seconds: 0.1, In: 300, Out: 40},
		{Kind: event.Request, Service: "rm -rf /", Result: "ok"},
		{Kind: event.ConnClose, Result: "ok", InFlight: 1},
		{Kind: event.ConnClose, Result: "failed"},
		{Kind: event.Maintenance, Result: "ok", Seconds: 3},
		{Kind: event.Dropped, Dropped: 7},
		{Kind: event.Dropped, Dropped: 5}, // a restarted pipe reports an older total: the counter never goes down
	} {
		m.Apply(e)
	}
	m.Delivered("ok")
	m.Delivered("retry")
	m.Queue(4, nil)
	fams := scrape(t, m.Handler())
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"gitserver_connections_in_flight", nil, 0},
		{"gitserver_connections_total", []string{"result", "ok"}, 1},
		{"gitserver_connections_total", []string{"result", "failed"}, 1},
		{"gitserver_connections_total", []string{"result", "refused"}, 0},
		{"gitserver_authentications_total", []string{"result", "ok"}, 1},
		{"gitserver_authentications_total", []string{"result", "unknown_key"}, 1},
		{"gitserver_authentications_total", []string{"result", "other"}, 1},
		{"gitserver_key_lookup_duration_seconds", nil, 1},
		{"gitserver_requests_total", []string{"service", "git-upload-pack", "result", "ok"}, 1},
		{"gitserver_requests_total", []string{"service", "git-receive-pack", "result", "denied"}, 1},
		{"gitserver_requests_total", []string{"service", "other", "result", "ok"}, 1},
		{"gitserver_requests_total", []string{"service", "git-receive-pack", "result", "ok"}, 0},
		{"gitserver_request_duration_seconds", []string{"service", "git-upload-pack"}, 1},
		{"gitserver_request_received_bytes_total", []string{"service", "git-receive-pack"}, 300},
		{"gitserver_request_sent_bytes_total", []string{"service", "git-upload-pack"}, 5000},
		{"gitserver_maintenance_runs_total", []string{"result", "ok"}, 1},
		{"gitserver_webhook_deliveries_total", []string{"result", "ok"}, 1},
		{"gitserver_webhook_deliveries_total", []string{"result", "retry"}, 1},
		{"gitserver_webhook_queue_length", nil, 4},
		{"gitserver_metrics_events_dropped_total", nil, 7},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams["gitserver_repository_requests_total"] != nil {
		t.Error("per-repository series without metrics_repo_labels")
	}
	if f := fams["gitserver_build_info"]; f == nil || len(f.Metric) != 1 || f.Metric[0].Gauge.GetValue() != 1 {
		t.Errorf("gitserver_build_info: %v", f)
	}
}

func TestRepoLabels(t *testing.T) {
	m := New(true, true)
	m.Apply(event.Event{Kind: event.Request, Service: "git-upload-pack", Result: "ok", Repo: "team/app"})
	m.Apply(event.Event{Kind: event.Request, Service: "git-upload-pack", Result: "ok", Repo: strings.Repeat("a", maxRepoLabel+1)})
	fams := scrape(t, m.Handler())
	if got := value(fams, "gitserver_repository_requests_total", "repo", "team/app", "service", "git-upload-pack", "result", "ok"); got != 1 {
		t.Errorf("team/app = %v, want 1", got)
	}
	if got := value(fams, "gitserver_repository_requests_total", "repo", "other", "service", "git-upload-pack", "result", "ok"); got != 1 {
		t.Errorf("a too long name = %v, want 1 as other", got)
	}
}

func get(h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthAndReady(t *testing.T) {
	m := New(true, false)
	h := m.Handler()
	if code, _ := get(h, "/health"); code != 200 {
		t.Errorf("/health = %d", code)
	}
	steps := []struct {
		do   func()
		want int
	}{
		{func() {}, 503}, // nothing yet
		{func() { m.Apply(event.Event{Kind: event.State, Ready: true}) }, 503},  // queue not read
		{func() { m.Queue(0, nil) }, 200},                                       // ready
		{func() { m.Queue(0, errors.New("locked")) }, 503},                      // queue unreadable
		{func() { m.Queue(2, nil) }, 200},                                       // readable again
		{func() { m.Apply(event.Event{Kind: event.Ready, Ready: false}) }, 503}, // serve is stopping
	}
	for i, s := range steps {
		s.do()
		if code, body := get(h, "/ready"); code != s.want {
			t.Errorf("step %d: /ready = %d %q, want %d", i, code, body, s.want)
		}
	}
	// Standalone (gitserver deliver): the queue alone decides.
	alone := New(false, false)
	alone.Queue(0, nil)
	if code, _ := get(alone.Handler(), "/ready"); code != 200 {
		t.Errorf("standalone /ready = %d, want 200", code)
	}
}
