// Package metrics is gitserver's Prometheus endpoint, served by the
// gitserver-deliver helper: /metrics (Prometheus's text format), /health
// and /ready. Under 'gitserver serve' the helper is serve's child and
// counts what serve tells it on a pipe (package internal/metrics/event):
// connections, authentications, requests with their durations and
// bytes, key lookups, maintenance runs. Standalone ('gitserver deliver'
// behind sshd) it has its own figures only: the webhook queue and
// deliveries, and the build.
//
// Label values come from fixed sets; anything else a line carries is
// counted as "other", so that no input can make series without bound.
// The repository is a label only when the config asks for it
// (metrics_repo_labels), on series of their own.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gitserver/gitserver/internal/metrics/event"
	"github.com/gitserver/gitserver/internal/version"
)

// Metrics holds the series. Its zero value is not usable: use New.
type Metrics struct {
	reg *prometheus.Registry

	connsInFlight prometheus.Gauge
	conns         *prometheus.CounterVec
	auths         *prometheus.CounterVec
	keyLookup     prometheus.Histogram
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	bytesIn       *prometheus.CounterVec
	bytesOut      *prometheus.CounterVec
	repoRequests  *prometheus.CounterVec // nil unless repo labels are on
	maintenance   *prometheus.CounterVec
	maintainTime  prometheus.Histogram
	queue         prometheus.Gauge
	deliveries    *prometheus.CounterVec
	dropped       atomic.Int64 // events serve could not send

	serve      bool        // fed by serve: ready follows serve's word
	serveReady atomic.Bool // serve listens and is not stopping
	queueOK    atomic.Bool // the last read of the webhook queue worked
	queueRead  atomic.Bool // there was one
}

// The label values accepted; others count as "other".
var (
	services = set("git-upload-pack", "git-receive-pack", "git-upload-archive", "git-lfs-transfer", "git-lfs-authenticate",
		"builtin", "shell", "unknown")
	requestResults = set("ok", "denied", "failed")
	connResults    = set("ok", "refused", "failed")
	authResults    = set("ok", "unknown_key", "wrong_login_name", "unsupported_key", "bad_signature",
		"method_not_offered", "bad_request", "server_error")
	runResults      = set("ok", "failed")
	deliveryResults = set("ok", "retry", "failed")
)

func set(vs ...string) map[string]bool {
	m := map[string]bool{}
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func pick(m map[string]bool, v string) string {
	if m[v] {
		return v
	}
	return "other"
}

// maxRepoLabel bounds a repository label; a longer name is "other".
const maxRepoLabel = 256

// New makes the series. serve says the helper is fed by serve (ready
// then needs serve's word); repoLabels adds per-repository series.
func New(serve, repoLabels bool) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), serve: serve}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.connsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gitserver_connections_in_flight",
		Help: "SSH connections open now, authenticated or not (serve)."})
	m.conns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_connections_total",
		Help: "SSH connections closed, by result: ok (authenticated), failed (did not authenticate), refused (limits, shutdown) (serve)."}, []string{"result"})
	m.auths = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_authentications_total",
		Help: "Authentication attempts by result: ok, or the reason of the 'authentication failed' log line, with underscores (serve)."}, []string{"result"})
	m.keyLookup = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gitserver_key_lookup_duration_seconds",
		Help:    "Time the driver took to look up an offered key (serve).",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_requests_total",
		Help: "Requests (SSH sessions' commands) by service and result: ok, denied, failed (serve)."}, []string{"service", "result"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gitserver_request_duration_seconds",
		Help:    "Time from a request's arrival to its end, by service (serve).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"service"})
	m.bytesIn = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_request_received_bytes_total",
		Help: "Bytes received from clients on requests' stdin, by service (serve)."}, []string{"service"})
	m.bytesOut = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_request_sent_bytes_total",
		Help: "Bytes sent to clients on requests' stdout, by service (serve)."}, []string{"service"})
	if repoLabels {
		m.repoRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_repository_requests_total",
			Help: "Requests by repository, service and result (serve, with metrics_repo_labels)."}, []string{"repo", "service", "result"})
		f(m.repoRequests)
	}
	m.maintenance = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_maintenance_runs_total",
		Help: "Scheduled maintenance runs ('gitserver maintain --all' by serve) by result."}, []string{"result"})
	m.maintainTime = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gitserver_maintenance_run_duration_seconds",
		Help:    "Time a scheduled maintenance run took.",
		Buckets: []float64{.1, 1, 10, 60, 300, 900, 3600, 4 * 3600}})
	m.queue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "gitserver_webhook_queue_length",
		Help: "Webhook deliveries waiting to be sent (or retried)."})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gitserver_webhook_deliveries_total",
		Help: "Webhook delivery attempts by result: ok, retry (failed, tried again later), failed (given up)."}, []string{"result"})
	info := version.Get()
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "gitserver_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": info.Version, "revision": info.Revision, "goversion": info.Go}})
	build.Set(1)
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gitserver_metrics_events_dropped_total",
		Help: "Events serve dropped rather than wait for this endpoint (its buffer was full): the other series miss them."},
		func() float64 { return float64(m.dropped.Load()) })
	for _, c := range []prometheus.Collector{m.connsInFlight, m.conns, m.auths, m.keyLookup, m.requests, m.duration,
		m.bytesIn, m.bytesOut, m.maintenance, m.maintainTime, m.queue, m.deliveries, build, dropped} {
		f(c)
	}
	// Every known label value from the start, at zero: a rate over a
	// series that appears only with its first event misses that event.
	for r := range connResults {
		m.conns.WithLabelValues(r)
	}
	for r := range authResults {
		m.auths.WithLabelValues(r)
	}
	for r := range runResults {
		m.maintenance.WithLabelValues(r)
	}
	for r := range deliveryResults {
		m.deliveries.WithLabelValues(r)
	}
	for s := range services {
		for r := range requestResults {
			m.requests.WithLabelValues(s, r)
		}
	}
	return m
}

// Apply counts one of serve's events.
func (m *Metrics) Apply(e event.Event) {
	switch e.Kind {
	case event.State:
		m.serveReady.Store(e.Ready)
		m.connsInFlight.Set(float64(max(e.InFlight, 0)))
		m.setDropped(e.Dropped)
	case event.Ready:
		m.serveReady.Store(e.Ready)
	case event.Dropped:
		m.setDropped(e.Dropped)
	case event.ConnOpen:
		m.connsInFlight.Set(float64(max(e.InFlight, 0)))
	case event.ConnClose:
		m.connsInFlight.Set(float64(max(e.InFlight, 0)))
		m.conns.WithLabelValues(pick(connResults, e.Result)).Inc()
	case event.Auth:
		m.auths.WithLabelValues(pick(authResults, e.Result)).Inc()
	case event.KeyLookup:
		m.keyLookup.Observe(e.Seconds)
	case event.Request:
		svc, res := pick(services, e.Service), pick(requestResults, e.Result)
		m.requests.WithLabelValues(svc, res).Inc()
		m.duration.WithLabelValues(svc).Observe(e.Seconds)
		m.bytesIn.WithLabelValues(svc).Add(float64(max(e.In, 0)))
		m.bytesOut.WithLabelValues(svc).Add(float64(max(e.Out, 0)))
		if m.repoRequests != nil && e.Repo != "" {
			repo := e.Repo
			if len(repo) > maxRepoLabel {
				repo = "other"
			}
			m.repoRequests.WithLabelValues(repo, svc, res).Inc()
		}
	case event.Maintenance:
		m.maintenance.WithLabelValues(pick(runResults, e.Result)).Inc()
		m.maintainTime.Observe(e.Seconds)
	}
}

// setDropped raises the dropped count to n (serve sends its total).
func (m *Metrics) setDropped(n int64) {
	for {
		old := m.dropped.Load()
		if n <= old || m.dropped.CompareAndSwap(old, n) {
			return
		}
	}
}

// Queue records a read of the webhook queue: pending deliveries, or the
// error reading it (then /ready fails).
func (m *Metrics) Queue(pending int, err error) {
	m.queueRead.Store(true)
	m.queueOK.Store(err == nil)
	if err == nil {
		m.queue.Set(float64(pending))
	}
}

// Delivered counts one delivery attempt's result: ok, retry or failed.
func (m *Metrics) Delivered(result string) {
	m.deliveries.WithLabelValues(pick(deliveryResults, result)).Inc()
}

// Ready says whether /ready answers 200: the webhook queue reads, and,
// fed by serve, serve listens and is not shutting down.
func (m *Metrics) Ready() (bool, string) {
	switch {
	case m.serve && !m.serveReady.Load():
		return false, "serve is not listening (starting or stopping)"
	case !m.queueRead.Load():
		return false, "the webhook queue was not read yet"
	case !m.queueOK.Load():
		return false, "the webhook queue cannot be read (see the log)"
	}
	return true, "ready"
}

// Handler serves /metrics, /health (200 while this process runs) and
// /ready (200, or 503 with the reason).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := m.Ready()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write([]byte(why + "\n"))
	})
	return mux
}

// Serve answers on l until ctx ends.
func (m *Metrics) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
