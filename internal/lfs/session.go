// Package lfs serves Git LFS over SSH: git-lfs-transfer, the "pure SSH"
// protocol of git-lfs 3 (git-lfs's docs/proposals/ssh_adapter.md), on one
// session's stdin and stdout, with the objects and locks stored in the
// repository itself.
//
// # Security
//
// The request pipeline (package shim) has decided who the user is and
// that they may read (download) or write (upload) the repository before a
// Session starts; a Session decides only what the protocol leaves to the
// server: an upload session may put objects, lock and unlock, a download
// session may get them, and only an admin may force away another user's
// lock. Everything the client sends is bounded (packets, arguments,
// objects per batch, the object size) and an object id is checked to be
// 64 lowercase hex digits before any path is built from it. An object is
// written to a temporary file, checked against its size and SHA-256 as it
// streams, synced and linked into place, never over an existing one.
package lfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// The operations of "git-lfs-transfer PATH OP".
const (
	Upload   = "upload"
	Download = "download"
)

// DefaultMaxObjectSize is the object size limit when none is configured.
const DefaultMaxObjectSize = 10 << 30

// Session is one git-lfs-transfer run, on a repository the pipeline has
// already authorized for Op.
type Session struct {
	Op    string // Upload or Download
	User  string // who is asking, the owner of the locks they make
	Admin bool   // may force away another user's lock
	// MaxObjectSize bounds an uploaded object; 0 means
	// DefaultMaxObjectSize.
	MaxObjectSize int64
	Objects       *Objects
	Locks         *Locks
	Now           func() time.Time // nil means time.Now

	r *pktReader
	w *pktWriter
	// Stats counts what the session did, for its request line.
	Stats Stats
	// Failures are the store errors behind the requests answered with
	// status 500 (the first few), for the operator's log; the session
	// went on after them.
	Failures []error
}

// Stats is what a session did.
type Stats struct {
	Objects  int   // objects put or got
	BytesIn  int64 // object bytes received
	BytesOut int64 // object bytes sent
	Locks    int   // locks made or removed
	Quit     bool  // the client ended with quit
}

// Status codes of the protocol, as HTTP uses them.
const (
	statusOK         = 200
	statusCreated    = 201
	statusBad        = 400
	statusForbidden  = 403
	statusNotFound   = 404
	statusConflict   = 409
	statusTooLarge   = 413
	statusInternal   = 500
	statusNoSpace    = 507
	protocolVersion  = "1"
	hashAlgo         = "sha256"
	transferAdapter  = "ssh"
	defaultLockLimit = 100
	maxLockLimit     = 1000
)

// Serve runs the session on r and w until the client quits or leaves. A
// client that leaves without quit, between requests, is no error; one
// that leaves in the middle of a request, or breaks the framing, is.
// Requests the server refuses (a status of 400 or more) are answered and
// the session goes on.
func (s *Session) Serve(r io.Reader, w io.Writer) error {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.MaxObjectSize <= 0 {
		s.MaxObjectSize = DefaultMaxObjectSize
	}
	s.r, s.w = newPktReader(r), newPktWriter(w)
	if err := s.advertise(); err != nil {
		return err
	}
	versioned := false
	for {
		req, partial, err := readRequest(s.r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		var br *badRequest
		if errors.As(err, &br) {
			if err := s.refuse(partial || req.body, statusBad, br.msg); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if req.cmd == "quit" {
			s.Stats.Quit = true
			return s.reply(statusOK, nil, nil, false)
		}
		if !versioned && req.cmd != "version "+protocolVersion {
			if err := s.refuse(req.body, statusBad, "send \"version 1\" first"); err != nil {
				return err
			}
			continue
		}
		versioned = true
		if err := s.handle(req); err != nil {
			return err
		}
	}
}

// advertise sends the capabilities.
func (s *Session) advertise() error {
	if err := s.w.text("version=" + protocolVersion); err != nil {
		return err
	}
	if err := s.w.text("locking"); err != nil {
		return err
	}
	return s.w.end()
}

// handle answers one request; it returns an error only when the session
// cannot go on.
func (s *Session) handle(req request) error {
	var err error
	switch word, _, _ := cutWord(req.cmd); word {
	case "version":
		if req.cmd != "version "+protocolVersion {
			return s.refuse(req.body, statusBad, "unsupported protocol version")
		}
		if req.body {
			return s.refuse(true, statusBad, "version takes no body")
		}
		return s.reply(statusOK, nil, nil, false)
	case "batch":
		err = s.batch(req)
	case "get-object":
		err = s.getObject(req)
	case "put-object":
		err = s.putObject(req)
	case "verify-object":
		err = s.verifyObject(req)
	case "lock":
		err = s.lock(req)
	case "list-lock", "list-locks": // git-lfs 3.3 sends list-locks to verify
		err = s.listLocks(req)
	case "unlock":
		err = s.unlock(req)
	default:
		return s.refuse(req.body, statusBad, "unknown command "+quote(word))
	}
	var br *badRequest
	if errors.As(err, &br) {
		return s.refuse(req.body, statusBad, br.msg)
	}
	return err
}

func cutWord(s string) (word, rest string, ok bool) { return strings.Cut(s, " ") }

// refuse answers a request with an error status and message; pending
// means the rest of the request is still unread, and is skipped first.
func (s *Session) refuse(pending bool, code int, msg string) error {
	if pending {
		if err := drain(s.r); err != nil {
			return err
		}
	}
	return s.reply(code, nil, []string{msg}, true)
}

// reply writes a response: its status, arguments and, after a delim
// packet when withBody, its lines.
func (s *Session) reply(code int, args, lines []string, withBody bool) error {
	if err := s.w.text("status " + strconv.Itoa(code)); err != nil {
		return err
	}
	for _, a := range args {
		if err := s.w.text(a); err != nil {
			return err
		}
	}
	if withBody {
		if err := s.w.delim(); err != nil {
			return err
		}
		for _, l := range lines {
			if err := s.w.text(l); err != nil {
				return err
			}
		}
	}
	return s.w.end()
}

// need refuses a command that the session's operation does not allow.
func (s *Session) need(req request, op string) (bool, error) {
	if s.Op == op {
		return true, nil
	}
	article := "a"
	if op == Upload {
		article = "an"
	}
	return false, s.refuse(req.body, statusForbidden, fmt.Sprintf("%s needs %s %s session", commandName(req.cmd), article, op))
}

func commandName(cmd string) string {
	w, _, _ := cutWord(cmd)
	return w
}

// failed answers an error of the store: a full disk is 507, anything
// else 500; the detail is the caller's to log, not the client's.
func (s *Session) failed(pending bool, err error) error {
	if errors.Is(err, ErrNoSpace) {
		return s.refuse(pending, statusNoSpace, "not enough space on the server")
	}
	if errors.Is(err, fs.ErrNotExist) {
		return s.refuse(pending, statusNotFound, "not found")
	}
	if len(s.Failures) < maxFailures {
		s.Failures = append(s.Failures, err)
	}
	return s.refuse(pending, statusInternal, "internal server error")
}

// maxFailures bounds the store failures a session keeps for its log.
const maxFailures = 8
