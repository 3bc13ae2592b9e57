package statewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/version"
	"github.com/gitserver/gitserver/keys"
)

// DefaultTimeout bounds one write, helper start and PostgreSQL included.
const DefaultTimeout = time.Minute

// HelperName is the helper program, installed beside gitserver.
const HelperName = "gitserver-replicate"

// HelperHint says how to install the helper.
const HelperHint = "install " + HelperName + " beside gitserver, from the same build: CGO_ENABLED=0 go install -trimpath ./cmd/gitserver ./cmd/" + HelperName

// FindHelper returns the helper beside the running program, if it is
// there and safe to run (exe.Check).
func FindHelper() (string, error) {
	helper, err := exe.Beside(HelperName)
	if err == nil {
		err = exe.Check(helper)
	}
	return helper, err
}

// Client sends writes to the helper.
type Client struct {
	Config string // the config file the helper loads: the caller's own
	// Helper is the helper program; "" means FindHelper's, looked up at
	// the first write (not at every login that opens a store).
	Helper  string
	By      string        // who writes, for the logs; "" means the OS user and host
	Timeout time.Duration // zero: DefaultTimeout
}

// Do runs the helper for req and returns its response; an error when the
// helper could not run, answered nothing readable, or refused the write
// (then an error from Error.Err).
func (c *Client) Do(req Request) (Response, error) {
	if c.Helper == "" {
		helper, err := FindHelper()
		if err != nil {
			return Response{}, fmt.Errorf("statewrite: the config names a shared store ([store]), which gitserver writes through %s: %w\nhint: %s", HelperName, err, HelperHint)
		}
		c.Helper = helper
	}
	if c.By == "" {
		c.By = whoAmI()
	}
	req.By = c.By
	in, err := json.Marshal(req)
	if err != nil {
		return Response{}, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Helper, "write", "--build-id="+version.Get().BuildID(), "--config="+c.Config)
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	var stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &limitedWriter{w: &out, n: MaxResponse + 1}, &stderr
	runErr := cmd.Run()
	var resp Response
	if out.Len() > MaxResponse {
		return Response{}, fmt.Errorf("statewrite: %s answered more than %d bytes", c.Helper, MaxResponse)
	}
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("statewrite: %s did not answer within %v; nothing is known to be written", c.Helper, timeout)
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" && runErr != nil {
			msg = runErr.Error()
		}
		return Response{}, fmt.Errorf("statewrite: %s: %s", c.Helper, msg)
	}
	if resp.Error != nil {
		return resp, resp.Error.Err()
	}
	return resp, nil
}

// whoAmI names the writer: OS user and host.
func whoAmI() string {
	name := "uid " + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// limitedWriter keeps at most n bytes and drops the rest, so that a
// helper gone wrong cannot fill memory; the caller sees the overflow.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if len(q) > l.n {
		q = q[:l.n]
	}
	l.n -= len(q)
	if _, err := l.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// limitedBuffer is the helper's stderr: its first 4 KiB.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Keys is Client as a keys.Source.
type Keys struct{ C *Client }

var _ keys.Source = Keys{}

// Add adds records in the shared store, all or nothing (keys.Store.Add).
func (k Keys) Add(recs []keys.Record) ([]keys.Record, error) {
	resp, err := k.C.Do(Request{Op: OpKeysAdd, Records: recs})
	return resp.Added, err
}

// Import adds the good records and reports the others (keys.Store.Import).
func (k Keys) Import(recs []keys.Record) (int, []error, error) {
	resp, err := k.C.Do(Request{Op: OpKeysImport, Records: recs})
	if err != nil {
		return 0, nil, err
	}
	rejected := make([]error, len(resp.Rejected))
	for i, msg := range resp.Rejected {
		rejected[i] = errors.New(msg)
	}
	return resp.Count, rejected, nil
}

// Remove removes keys by fingerprint (keys.Store.Remove).
func (k Keys) Remove(fps ...string) (int, error) {
	resp, err := k.C.Do(Request{Op: OpKeysRemove, Fingerprints: fps})
	return resp.Count, err
}

// RemoveUser removes every key of user (keys.Store.RemoveUser).
func (k Keys) RemoveUser(user string) (int, error) {
	resp, err := k.C.Do(Request{Op: OpKeysRemoveUser, User: user})
	return resp.Count, err
}

// RemoveOwn removes fp if it is user's (keys.Store.RemoveOwn).
func (k Keys) RemoveOwn(user, fp string, keepLast bool) error {
	_, err := k.C.Do(Request{Op: OpKeysRemoveOwn, User: user, Fingerprints: []string{fp}, KeepLast: keepLast})
	return err
}

// PushPolicy stores doc, which the caller has checked, as the new policy
// version, and returns it.
func (c *Client) PushPolicy(doc []byte) (Response, error) {
	return c.Do(Request{Op: OpPolicyPush, Policy: doc})
}
