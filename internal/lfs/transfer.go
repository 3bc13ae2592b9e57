package lfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
)

// batch answers which objects to transfer: for an upload, "upload" and
// "verify" for each object the server lacks and "noop" for the others;
// for a download, "download" with the stored size for each object it has
// and "noop" for the others (the client reports them missing).
func (s *Session) batch(req request) error {
	if !req.body {
		return bad("batch needs a delim packet and object lines")
	}
	objs, err := readBatch(s.r)
	if err != nil {
		var br *badRequest
		if errors.As(err, &br) {
			return s.refuse(true, statusBad, br.msg)
		}
		return err
	}
	if t, ok := req.args["transfer"]; ok && t != transferAdapter {
		return s.reply(statusConflict, nil, []string{"unsupported transfer adapter " + quote(t) + " (want ssh)"}, true)
	}
	if h, ok := req.args["hash-algo"]; ok && h != hashAlgo {
		return s.reply(statusConflict, nil, []string{"unsupported hash algorithm " + quote(h) + " (want sha256)"}, true)
	}
	lines := make([]string, 0, len(objs))
	for _, o := range objs {
		if s.Op == Upload && o.size > s.MaxObjectSize {
			return s.reply(statusTooLarge, nil, []string{fmt.Sprintf("object %s is %d bytes, more than this server's limit of %d", o.oid, o.size, s.MaxObjectSize)}, true)
		}
		have, err := s.Objects.Stat(o.oid)
		present := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return s.failed(false, err)
		}
		switch {
		case s.Op == Upload && present:
			lines = append(lines, objLine(o.oid, o.size, "noop"))
		case s.Op == Upload:
			lines = append(lines, objLine(o.oid, o.size, "upload"), objLine(o.oid, o.size, "verify"))
		case present:
			lines = append(lines, objLine(o.oid, have, "download"))
		default:
			lines = append(lines, objLine(o.oid, o.size, "noop"))
		}
	}
	return s.reply(statusOK, []string{"hash-algo=" + hashAlgo}, lines, true)
}

func objLine(oid string, size int64, action string) string {
	return oid + " " + strconv.FormatInt(size, 10) + " " + action
}

// getObject sends an object: status 200, its size, then its bytes.
func (s *Session) getObject(req request) error {
	oid, err := oidArg(req.cmd, "get-object")
	if err != nil {
		return err
	}
	if req.body {
		return bad("get-object takes no body")
	}
	if ok, err := s.need(req, Download); !ok {
		return err
	}
	f, size, err := s.Objects.Open(oid)
	if errors.Is(err, fs.ErrNotExist) {
		return s.reply(statusNotFound, nil, []string{"object not found"}, true)
	}
	if err != nil {
		return s.failed(false, err)
	}
	defer f.Close()
	if err := s.reply200Head([]string{"size=" + strconv.FormatInt(size, 10)}); err != nil {
		return err
	}
	buf := make([]byte, MaxPayload)
	var sent int64
	for sent < size {
		n, err := io.ReadFull(f, buf[:min(int64(len(buf)), size-sent)])
		if err != nil {
			// The client has the status and counts bytes: all we can do
			// is end the session, which it sees as a failed transfer.
			return fmt.Errorf("lfs: reading object %s: %w", oid, err)
		}
		if err := s.w.data(buf[:n]); err != nil {
			return err
		}
		sent += int64(n)
	}
	s.Stats.Objects++
	s.Stats.BytesOut += sent
	return s.w.end()
}

// reply200Head writes the head of a response with data: status 200, the
// arguments, the delim packet.
func (s *Session) reply200Head(args []string) error {
	if err := s.w.text("status " + strconv.Itoa(statusOK)); err != nil {
		return err
	}
	for _, a := range args {
		if err := s.w.text(a); err != nil {
			return err
		}
	}
	return s.w.delim()
}

// putObject stores an object sent in the request's body.
func (s *Session) putObject(req request) error {
	oid, err := oidArg(req.cmd, "put-object")
	if err != nil {
		return err
	}
	if ok, err := s.need(req, Upload); !ok {
		return err
	}
	sz, ok := req.args["size"]
	if !ok {
		return bad("put-object needs a size argument")
	}
	size, err := parseSize(sz)
	if err != nil {
		return err
	}
	if !req.body {
		return bad("put-object needs a delim packet before the data")
	}
	if size > s.MaxObjectSize {
		return s.refuse(true, statusTooLarge, fmt.Sprintf("object is %d bytes, more than this server's limit of %d", size, s.MaxObjectSize))
	}
	b := &body{p: s.r}
	perr := s.Objects.Put(oid, size, b)
	if err := b.finish(); err != nil {
		return err // the client left or broke the framing mid-object
	}
	s.Stats.BytesIn += b.n
	switch {
	case errors.Is(perr, ErrBadObject):
		return s.reply(statusBad, nil, []string{"object data does not match its id and size"}, true)
	case perr != nil:
		return s.failed(false, perr)
	}
	s.Stats.Objects++
	return s.reply(statusOK, nil, nil, false)
}

// verifyObject confirms that the server holds an object of the size the
// client uploaded.
func (s *Session) verifyObject(req request) error {
	oid, err := oidArg(req.cmd, "verify-object")
	if err != nil {
		return err
	}
	if req.body {
		return bad("verify-object takes no body")
	}
	if ok, err := s.need(req, Upload); !ok {
		return err
	}
	sz, ok := req.args["size"]
	if !ok {
		return bad("verify-object needs a size argument")
	}
	size, err := parseSize(sz)
	if err != nil {
		return err
	}
	have, err := s.Objects.Stat(oid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s.reply(statusNotFound, nil, []string{"object not found"}, true)
	case err != nil:
		return s.failed(false, err)
	case have != size:
		return s.reply(statusConflict, nil, []string{fmt.Sprintf("object is %d bytes here, not %d", have, size)}, true)
	}
	return s.reply(statusOK, nil, nil, false)
}
