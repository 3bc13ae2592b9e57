package deliver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gitserver/gitserver/internal/webhook"
	"github.com/hashicorp/go-hclog"
)

// Worker sends a queue's deliveries.
type Worker struct {
	Queue *webhook.Queue
	Log   hclog.Logger
	// Poll is how often the queue is read; FirstRetry the wait after a
	// first failure (doubling to MaxDelay). Zero values mean 1s and
	// webhook.FirstRetry.
	Poll, FirstRetry time.Duration
	Now              func() time.Time
	// Observe, if set, is told of each read of the queue and of each
	// attempt's result, for metrics.
	Observe Observer
}

// Observer is what Worker tells of its work.
type Observer interface {
	// Queue: the queue held pending deliveries, or could not be read.
	Queue(pending int, err error)
	// Delivered: an attempt's result, "ok", "retry" or "failed" (for good).
	Delivered(result string)
}

type nopObserver struct{}

func (nopObserver) Queue(int, error) {}
func (nopObserver) Delivered(string) {}

// maxInFlight bounds the deliveries sent at once.
const maxInFlight = 16

// Run delivers until ctx ends. Each turn starts the due deliveries that
// are not in flight, at most one per URL at a time (in order, for each
// receiver) and maxInFlight in all, so that a receiver that hangs holds
// up only its own deliveries. A success removes a delivery, a failure
// schedules the next try, and one still failing a day after its push is
// kept as failed. A delivery is removed only after its receiver answered
// 2xx, so a worker killed in between sends it again (at least once; the
// id lets receivers dedupe).
func (w *Worker) Run(ctx context.Context) error {
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.FirstRetry <= 0 {
		w.FirstRetry = webhook.FirstRetry
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Observe == nil {
		w.Observe = nopObserver{}
	}
	var (
		mu     sync.Mutex
		busy   = map[string]bool{} // URLs with a delivery in flight
		wg     sync.WaitGroup
		poll   = time.NewTicker(w.Poll)
		queued = 0
	)
	defer poll.Stop()
	defer wg.Wait()
	for {
		pending, err := w.Queue.List(false)
		w.Observe.Queue(len(pending), err)
		if err != nil {
			w.Log.Error("webhook queue unreadable", "error", err)
		}
		due := webhook.DueOf(pending, w.Now(), 1000)
		for _, d := range due {
			mu.Lock()
			start := !busy[d.URL] && queued < maxInFlight
			if start {
				busy[d.URL] = true
				queued++
			}
			mu.Unlock()
			if !start {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.attempt(ctx, d); err != nil {
					w.Log.Error("webhook queue unwritable", "error", err)
				}
				mu.Lock()
				delete(busy, d.URL)
				queued--
				mu.Unlock()
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		}
	}
}

// attempt sends d once and records the outcome.
func (w *Worker) attempt(ctx context.Context, d webhook.Delivery) error {
	err := send(ctx, d, w.Now())
	if ctx.Err() != nil {
		return nil // stopping: it stays pending, as it was
	}
	d.Attempts++
	log := w.Log.With("delivery", d.ID, "url", d.URL, "repo", d.Repo, "event", d.Event, "attempt", d.Attempts)
	switch {
	case err == nil:
		log.Info("webhook delivered")
		w.Observe.Delivered("ok")
		return w.Queue.Settle(d, true, false)
	case errors.Is(err, ErrForbiddenAddress), w.Now().Sub(d.Created) >= webhook.GiveUp:
		d.LastError = errText(err)
		log.Error("webhook delivery failed for good; 'gitserver hooks redeliver "+d.ID+"' tries again", "error", d.LastError)
		w.Observe.Delivered("failed")
		return w.Queue.Settle(d, false, true)
	default:
		d.LastError = errText(err)
		d.NextAt = w.Now().Add(backoff(d.Attempts, w.FirstRetry))
		log.Warn("webhook delivery failed; will retry", "error", d.LastError, "next", d.NextAt)
		w.Observe.Delivered("retry")
		return w.Queue.Settle(d, false, false)
	}
}
