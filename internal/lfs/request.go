package lfs

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on one request.
const (
	maxArgs  = 64    // arguments of one command
	MaxBatch = 10000 // objects in one batch request
)

// request is a command, its arguments, and whether a body follows
// (a delim packet came after the arguments).
type request struct {
	cmd  string
	args map[string]string
	body bool
}

// badRequest is a request the client got wrong: the session answers it
// with status 400 and goes on.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return "lfs: bad request: " + e.msg }

func bad(format string, a ...any) error { return &badRequest{fmt.Sprintf(format, a...)} }

// readRequest reads a command line and its arguments, up to the flush or
// delim packet that ends them. io.EOF means the client left between
// requests. A *badRequest leaves the rest of the request unread; the
// caller drains it.
func readRequest(p *pktReader) (request, bool, error) {
	k, b, err := p.next()
	if err != nil {
		return request{}, false, err
	}
	if k != data {
		return request{}, k == delim, bad("expected a command")
	}
	cmd, err := textLine(b)
	if err != nil {
		return request{}, false, err
	}
	req := request{cmd: cmd, args: map[string]string{}}
	for {
		k, b, err := p.next()
		if err != nil {
			return request{}, false, unexpectedEOF(err)
		}
		switch k {
		case flush:
			return req, false, nil
		case delim:
			req.body = true
			return req, false, nil
		}
		if len(req.args) == maxArgs {
			return request{}, true, bad("more than %d arguments", maxArgs)
		}
		line, err := textLine(b)
		if err != nil {
			return request{}, true, err
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !validKey(key) {
			return request{}, true, bad("argument %s is not key=value", quote(line))
		}
		if _, dup := req.args[key]; dup {
			return request{}, true, bad("argument %s given twice", quote(key))
		}
		req.args[key] = val
	}
}

// unexpectedEOF turns an EOF inside a message into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// textLine is a text packet without its newline: printable UTF-8 only.
func textLine(b []byte) (string, error) {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	if !utf8.ValidString(s) {
		return "", bad("text is not valid utf-8")
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }); i >= 0 {
		return "", bad("control character at byte %d", i)
	}
	return s, nil
}

// validKey is the spec's key: letters, digits, - and _.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// quote quotes client text for a message, cut to 64 bytes.
func quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

// parseSize reads a size argument: decimal digits, no sign, at most
// 2^63-1.
func parseSize(s string) (int64, error) {
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, bad("invalid size %s", quote(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, bad("invalid size %s", quote(s))
	}
	return n, nil
}

// oidArg is the object id after a command word: "get-object OID".
func oidArg(cmd, word string) (string, error) {
	oid, ok := strings.CutPrefix(cmd, word+" ")
	if !ok || !ValidOID(oid) {
		return "", bad("invalid object id (want 64 lowercase hex digits)")
	}
	return oid, nil
}

// object is one line of a batch request.
type object struct {
	oid  string
	size int64
}

// readBatch reads a batch request's object lines, after its delim packet,
// to the flush.
func readBatch(p *pktReader) ([]object, error) {
	var out []object
	for {
		k, b, err := p.next()
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		switch k {
		case flush:
			return out, nil
		case delim:
			return nil, bad("unexpected delim packet in batch")
		}
		if len(out) == MaxBatch {
			return nil, bad("more than %d objects in one batch", MaxBatch)
		}
		line, err := textLine(b)
		if err != nil {
			return nil, err
		}
		f := strings.Split(line, " ") // OID SIZE [KEY=VALUE...]
		if len(f) < 2 {
			return nil, bad("batch line %s is not \"OID SIZE\"", quote(line))
		}
		if !ValidOID(f[0]) {
			return nil, bad("invalid object id in batch (want 64 lowercase hex digits)")
		}
		size, err := parseSize(f[1])
		if err != nil {
			return nil, err
		}
		out = append(out, object{f[0], size})
	}
}

// drain reads and discards packets up to the next flush, to skip the
// rest of a request the session refused.
func drain(p *pktReader) error {
	for {
		k, _, err := p.next()
		if err != nil {
			return unexpectedEOF(err)
		}
		if k == flush {
			return nil
		}
	}
}

// body reads a message body: the payloads of data packets up to the
// flush. A delim packet in it is a framing error.
type body struct {
	p    *pktReader
	rest []byte
	done bool
	n    int64 // bytes read
}

func (b *body) Read(dst []byte) (int, error) {
	for len(b.rest) == 0 {
		if b.done {
			return 0, io.EOF
		}
		k, d, err := b.p.next()
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		switch k {
		case flush:
			b.done = true
			return 0, io.EOF
		case delim:
			return 0, fmt.Errorf("%w: delim packet inside object data", ErrFraming)
		}
		b.rest = d
	}
	n := copy(dst, b.rest)
	b.rest = b.rest[n:]
	b.n += int64(n)
	return n, nil
}

// finish discards what is left of the body, up to its flush.
func (b *body) finish() error {
	if b.done {
		return nil
	}
	_, err := io.Copy(io.Discard, b)
	return err
}
