package shim

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// Summary is what one request came to, for metrics (Shim.Observe).
type Summary struct {
	// Service is the git service (git-upload-pack, git-receive-pack,
	// git-upload-archive, git-lfs-transfer, git-lfs-authenticate),
	// ServiceBuiltin, ServiceShell, or ServiceUnknown.
	Service string
	// Result is ResultOK, ResultDenied or ResultFailed.
	Result string
	// Repo is the repository's name, "" when there is none.
	Repo     string
	Duration time.Duration
	// BytesIn and BytesOut are what came from the client (stdin) and
	// went to it (stdout); stderr's short messages are not counted.
	BytesIn, BytesOut int64
}

// Services of an Summary besides git's own.
const (
	ServiceBuiltin = "builtin" // keys, info, whoami, help...
	ServiceShell   = "shell"   // an interactive login, refused
	ServiceUnknown = "unknown" // refused before the command was known: it did not parse, or the key or user is gone
)

// Results of an Summary.
const (
	ResultOK     = "ok"
	ResultDenied = "denied" // refused: by the policy, a bad request, an archived repository, a push's refused ref...
	ResultFailed = "failed" // the server's fault: git failed or could not start, the driver failed
)

// resultOf is the result of a git or LFS request that ran: err is an
// error running it, denied that its pre-receive check refused a ref.
func resultOf(code int, err error, denied bool) string {
	switch {
	case err != nil:
		return ResultFailed
	case denied:
		return ResultDenied
	case code != 0:
		return ResultFailed
	}
	return ResultOK
}

// refusalSummary is the Summary of a request Plan refused with err.
func refusalSummary(plan *Plan, err error) Summary {
	o := Summary{Service: ServiceUnknown, Result: ResultFailed}
	if plan != nil && plan.Verb != "" {
		o.Service, o.Repo = plan.Verb, plan.Name
	}
	var ce *ClientError
	if errors.As(err, &ce) {
		o.Result = ResultDenied
	}
	return o
}

// denied says whether a request line's key-value pairs decide "deny".
func denied(kv []any) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "decision" {
			return kv[i+1] == "deny"
		}
	}
	return false
}

// countReader counts what is read through it; Close closes the reader
// under it, when that can be closed.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countReader) Close() error {
	if cl, ok := c.r.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// countWriter counts what is written through it.
type countWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
