package execdriver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gitserver/gitserver/internal/execdriver/wire"
	"github.com/gitserver/gitserver/shim"
)

// MaxModels bounds the user models Serve keeps at once. Each user_model
// answer adds one; past the bound the oldest is forgotten, and an
// authorize naming it fails (and so denies). gitserver asks authorize
// right after user_model, so only a program serving thousands of
// requests at once (gitserver serve) could ever reach it.
const MaxModels = 1024

// Serve is the driver side of the protocol (contrib/drivers/PROTOCOL.md):
// it answers gitserver's handshake on r and w, then each request with d,
// one line at a time, until r ends, when it returns nil. A driver written
// in Go runs it on its stdin and stdout, as cmd/gitserver-http-driver
// does.
//
// User models stay in this process: gitserver gets an opaque handle,
// {"handle":N}, and authorize gets the model back (at most MaxModels at
// once). An error from d is answered as the protocol's error (unknown_key
// for shim.ErrUnknownKey, unknown_user for shim.ErrUnknownUser, failed
// with the error's text for any other), and gitserver denies.
//
// Anything gitserver would never send ends Serve with an error: a line
// longer than wire.MaxMessage, one that is not a JSON object, a handshake
// without version 1. It returns as well when ctx is done, at the next
// request; ctx is passed to d's methods.
func Serve(ctx context.Context, r io.Reader, w io.Writer, d shim.Driver) error {
	s := &server{d: d, in: bufio.NewReaderSize(r, 64<<10), out: bufio.NewWriter(w), models: map[int64]shim.UserModel{}}
	if err := s.handshake(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("execdriver: serve: handshake: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("execdriver: serve: %w", err)
		}
		line, err := readLine(s.in, wire.MaxMessage)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("execdriver: serve: reading a request: %w", err)
		}
		var req wire.Request
		if err := json.Unmarshal(line, &req); err != nil {
			return fmt.Errorf("execdriver: serve: request is not a JSON object: %v: %s", err, quote(line))
		}
		a := s.answer(ctx, &req)
		a.ID = req.ID
		if err := s.send(a); err != nil {
			return fmt.Errorf("execdriver: serve: %w", err)
		}
	}
}

// server is Serve's state: the driver, the pipes and the models given out.
type server struct {
	d      shim.Driver
	in     *bufio.Reader
	out    *bufio.Writer
	models map[int64]shim.UserModel
	next   int64 // the last handle given out
}

// handle is the user model gitserver holds for a model kept here.
type handle struct {
	Handle int64 `json:"handle"`
}

func (s *server) handshake() error {
	line, err := readLine(s.in, wire.MaxMessage)
	if err != nil {
		return err
	}
	var h wire.Hello
	if err := json.Unmarshal(line, &h); err != nil || h.Protocol != wire.ProtocolName {
		return fmt.Errorf("want {\"protocol\":%q,\"versions\":[...]}, got %s", wire.ProtocolName, quote(line))
	}
	if !slices.Contains(h.Versions, wire.Version) {
		return fmt.Errorf("gitserver offers protocol versions %v, this driver speaks %d", h.Versions, wire.Version)
	}
	return s.write(wire.Hello{Protocol: wire.ProtocolName, Version: wire.Version})
}

// answer runs one request on the driver.
func (s *server) answer(ctx context.Context, req *wire.Request) *wire.Response {
	switch req.Op {
	case wire.OpAuthenticate:
		user, err := s.d.Authenticate(ctx, shim.Credentials{LoginUser: req.Login, KeyType: req.KeyType, Key: req.Key, Fingerprint: req.Fingerprint})
		if err != nil {
			return failure(err)
		}
		return &wire.Response{User: user}
	case wire.OpUserModel:
		m, err := s.d.GetUserModel(ctx, req.User)
		if err != nil {
			return failure(err)
		}
		return &wire.Response{Model: s.keep(m)}
	case wire.OpAuthorize:
		return s.authorize(ctx, req)
	case wire.OpRepoPath:
		path, err := s.d.RepoPath(ctx, req.Path)
		if err != nil {
			return failure(err)
		}
		return &wire.Response{Path: path}
	}
	return &wire.Response{Error: "failed", Message: fmt.Sprintf("unknown op %.40q", req.Op)}
}

func (s *server) authorize(ctx context.Context, req *wire.Request) *wire.Response {
	var h handle
	if err := json.Unmarshal(req.Model, &h); err != nil || s.models[h.Handle] == nil {
		return &wire.Response{Error: "failed", Message: fmt.Sprintf("authorize: model %s is not a handle this process gave out", quote(req.Model))}
	}
	dec, err := s.d.Authorize(ctx, s.models[h.Handle], req.Command, req.Path)
	if err != nil {
		return failure(err)
	}
	return &wire.Response{Allow: &dec.Allow, Rule: dec.Rule}
}

// keep stores m and returns its handle, forgetting the oldest model past
// MaxModels. A nil model is kept as a non-nil one: the driver said the
// user exists.
func (s *server) keep(m shim.UserModel) json.RawMessage {
	s.next++
	if m == nil {
		m = struct{}{}
	}
	s.models[s.next] = m
	delete(s.models, s.next-MaxModels)
	data, _ := json.Marshal(handle{s.next})
	return data
}

// failure is the protocol's answer to a driver's error.
func failure(err error) *wire.Response {
	switch {
	case errors.Is(err, shim.ErrUnknownKey):
		return &wire.Response{Error: wire.CodeUnknownKey}
	case errors.Is(err, shim.ErrUnknownUser):
		return &wire.Response{Error: wire.CodeUnknownUser}
	}
	return &wire.Response{Error: "failed", Message: err.Error()}
}

// send writes a, or a failure in its place when a does not fit in a line.
func (s *server) send(a *wire.Response) error {
	data, err := json.Marshal(a)
	if err == nil && len(data) < wire.MaxMessage {
		return s.writeLine(data)
	}
	why := fmt.Sprintf("answer longer than %d bytes", wire.MaxMessage)
	if err != nil {
		why = err.Error()
	}
	return s.write(&wire.Response{ID: a.ID, Error: "failed", Message: why})
}

func (s *server) write(msg any) error {
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.writeLine(data)
}

func (s *server) writeLine(data []byte) error {
	s.out.Write(data)
	s.out.WriteByte('\n')
	return s.out.Flush()
}
