package replicate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/pgstore"
	"github.com/gitserver/gitserver/internal/pgtest"
	"github.com/gitserver/gitserver/keys"
)

// BenchmarkLag measures, for a burst of 10,000 key changes (4 writers,
// one key per transaction, as fast as PostgreSQL takes them), the time
// from each change's commit (when its AddKeys returned) to the moment the
// local replica holds it (when ReplicaState first reports its id, read
// every half millisecond), with Run following by LISTEN/NOTIFY. It
// reports the 50th and 99th percentiles and the slowest, in ms.
//
//	go test ./internal/replicate -run XXX -bench Lag -benchtime 1x
func BenchmarkLag(b *testing.B) {
	const changes, writers = 10000, 4
	var lags []time.Duration
	for range b.N {
		lags = append(lags, lagRun(b, changes, writers)...)
	}
	slices.Sort(lags)
	pct := func(p float64) float64 {
		return float64(lags[int(p*float64(len(lags)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// lagRun runs one burst and returns each change's lag.
func lagRun(b *testing.B, changes, writers int) []time.Duration {
	ctx := context.Background()
	dsn := pgtest.Start(b)
	pg, err := pgstore.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Close()
	if err := pg.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	local := keys.Open(filepath.Join(b.TempDir(), "keys.db"), keys.Options{})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, pg, local, dsn, hclog.New(&hclog.LoggerOptions{Output: io.Discard}), Options{Poll: time.Minute})
	}()
	defer func() { stop(); <-done }()
	for { // the start's snapshot
		if _, _, ok, _ := local.ReplicaState(); ok {
			break
		}
		time.Sleep(time.Millisecond)
	}

	// seen[id] is when the replica first held change id.
	seen := make([]time.Time, changes+1)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		have := int64(0)
		for have < int64(changes) {
			last, _, _, err := local.ReplicaState()
			if err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			for ; have < last; have++ {
				seen[have+1] = now
			}
			time.Sleep(500 * time.Microsecond)
		}
	}()
	committed := make([]time.Time, changes+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			for i := w; i < changes; i += writers {
				r := rec(fmt.Sprintf("user%d", i%100), i)
				if _, err := pg.AddKeys(ctx, []keys.Record{r}); err != nil {
					b.Error(err)
					return
				}
				now := time.Now()
				// The id is known only to the log: find it by key below.
				mu.Lock()
				committed[i] = now
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	<-watched
	b.StopTimer()
	// Map each key to its change id.
	ids := make(map[string]int64, changes)
	for since := int64(0); ; {
		cs, err := pg.ChangesSince(ctx, since, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			ids[c.Fingerprint] = c.ID
		}
		if len(cs) < pgstore.MaxChanges {
			break
		}
		since = cs[len(cs)-1].ID
	}
	lags := make([]time.Duration, 0, changes)
	for i := range changes {
		id := ids[testKey(i).Fingerprint]
		lags = append(lags, max(seen[id].Sub(committed[i]), 0))
	}
	return lags
}
