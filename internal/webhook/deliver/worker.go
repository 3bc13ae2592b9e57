package deliver

import (
	"context"
	"errors"
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
}

// Run delivers until ctx ends: each due delivery is sent once per turn;
// a success removes it, a failure schedules the next try, and one still
// failing a day after its push is kept as failed. A delivery is removed
// only after its receiver answered 2xx, so a worker killed in between
// sends it again (at least once; the id lets receivers dedupe).
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
	t := time.NewTicker(w.Poll)
	defer t.Stop()
	for {
		if err := w.turn(ctx); err != nil {
			w.Log.Error("webhook queue unreadable", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// turn sends what is due now.
func (w *Worker) turn(ctx context.Context) error {
	due, err := w.Queue.Due(w.Now(), 100)
	if err != nil {
		return err
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return nil
		}
		err := send(ctx, d, w.Now())
		d.Attempts++
		log := w.Log.With("delivery", d.ID, "url", d.URL, "repo", d.Repo, "event", d.Event, "attempt", d.Attempts)
		var settleErr error
		switch {
		case err == nil:
			log.Info("webhook delivered")
			settleErr = w.Queue.Settle(d, true, false)
		case errors.Is(err, ErrForbiddenAddress), w.Now().Sub(d.Created) >= webhook.GiveUp:
			d.LastError = errText(err)
			log.Error("webhook delivery failed for good; 'gitserver hooks redeliver "+d.ID+"' tries again", "error", d.LastError)
			settleErr = w.Queue.Settle(d, false, true)
		default:
			d.LastError = errText(err)
			d.NextAt = w.Now().Add(backoff(d.Attempts, w.FirstRetry))
			log.Warn("webhook delivery failed; will retry", "error", d.LastError, "next", d.NextAt)
			settleErr = w.Queue.Settle(d, false, false)
		}
		if settleErr != nil {
			return settleErr
		}
	}
	return nil
}
