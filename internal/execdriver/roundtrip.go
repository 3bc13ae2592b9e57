package execdriver

import (
	"context"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/execdriver/wire"
)

// roundTrip is wire.Client's transport: one line out, one line back, on
// the program started by the first operation. The timeout covers waiting
// for an earlier operation, starting the program and the exchange.
func (d *Driver) roundTrip(ctx context.Context, op string, req *wire.Request) (*wire.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	select {
	case d.mu <- struct{}{}:
		defer func() { <-d.mu }()
	case <-ctx.Done():
		return nil, fmt.Errorf("execdriver: %s: waiting for an earlier operation: %w", op, ctx.Err())
	}
	if d.proc == nil {
		p, err := start(ctx, d.argv)
		if err != nil {
			return nil, fmt.Errorf("execdriver: %s: %w", op, err)
		}
		d.proc = p
	}
	d.id++
	req.ID, req.Op = d.id, op
	r, err := d.proc.exchange(ctx, req)
	if err != nil {
		err = d.proc.fail(err)
		d.proc = nil
		return nil, fmt.Errorf("execdriver: %s: %w", op, err)
	}
	return r, nil
}

// Close closes the program's stdin and waits for it to exit (up to the
// timeout, then kills it). A driver never started has nothing to close.
// The driver can be used again: the next operation starts a new program.
func (d *Driver) Close() error {
	select {
	case d.mu <- struct{}{}:
		defer func() { <-d.mu }()
	case <-time.After(d.timeout):
		return fmt.Errorf("execdriver: close: an operation is still running after %v", d.timeout)
	}
	if d.proc == nil {
		return nil
	}
	err := d.proc.close(d.timeout)
	d.proc = nil
	return err
}
