// Package statewrite carries gitserver's writes to the shared store when
// the config names one ([store]: PostgreSQL). The gitserver binary does
// not link the PostgreSQL client (it would slow every login, see
// shim/cli's replicate.go), so a write runs the helper program,
//
//	gitserver-replicate write --build-id=ID --config FILE
//
// with one Request as JSON on stdin. The helper writes to PostgreSQL,
// brings this host's replica (the key store and the policy file) up to
// date, and answers one Response on stdout: the writer reads its own
// write on this host at once; other hosts have it as soon as their
// 'gitserver replicate' does (within a second).
//
// Client is the gitserver side; Keys adapts it to keys.Source, so that
// a keys.Store opened with it sends its writes there and every caller of
// Add, Import, Remove, RemoveUser and RemoveOwn (the keys commands, the
// importers, 'ssh git@host keys ...') writes to the shared store as it
// wrote to the local one. Serve is the helper's side.
//
// If PostgreSQL cannot be reached, a write fails with the store's message
// and nothing changes on this host; logins go on from the replica.
package statewrite

import (
	"errors"
	"fmt"

	"github.com/gitserver/gitserver/keys"
)

// The operations of a Request.
const (
	OpKeysAdd        = "keys-add"
	OpKeysImport     = "keys-import"
	OpKeysRemove     = "keys-remove"
	OpKeysRemoveUser = "keys-remove-user"
	OpKeysRemoveOwn  = "keys-remove-own"
	OpPolicyPush     = "policy-push"
)

// MaxRequest bounds a request the helper reads, and MaxResponse a
// response gitserver reads: a batch of keys.Store-sized key records, or
// a policy document, in JSON.
const (
	MaxRequest  = 32 << 20
	MaxResponse = 32 << 20
)

// Request is one write.
type Request struct {
	Op           string        `json:"op"`
	Records      []keys.Record `json:"records,omitempty"`      // keys-add, keys-import
	Fingerprints []string      `json:"fingerprints,omitempty"` // keys-remove, keys-remove-own (one)
	User         string        `json:"user,omitempty"`         // keys-remove-user, keys-remove-own
	KeepLast     bool          `json:"keep_last,omitempty"`    // keys-remove-own
	Policy       []byte        `json:"policy,omitempty"`       // policy-push: the document
	// By names who asked, for the logs: the gitserver user, or the
	// operator's login on this host.
	By string `json:"by"`
}

// Response is the answer to one Request.
type Response struct {
	Added    []keys.Record `json:"added,omitempty"`    // keys-add: the records written
	Count    int           `json:"count"`              // keys-import: added; removals: removed
	Rejected []string      `json:"rejected,omitempty"` // keys-import: why each record was refused
	Version  int64         `json:"version,omitempty"`  // policy-push: the new version
	// Warning says the write is in the shared store but this host's
	// replica could not be brought up to date; 'gitserver replicate'
	// will.
	Warning string `json:"warning,omitempty"`
	Error   *Error `json:"error,omitempty"`
}

// The kinds of Error.
const (
	KindConflict = "conflict"  // a key of another user: Fingerprint, Owner
	KindNotFound = "not-found" // keys.ErrNotFound
	KindLastKey  = "last-key"  // keys.ErrLastKey
	KindFailed   = "failed"    // anything else: the message says
)

// Error is a write refused or failed, in a form that crosses the pipe.
type Error struct {
	Kind        string `json:"kind"`
	Message     string `json:"message"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Owner       string `json:"owner,omitempty"`
}

// NewError turns err into an Error, keeping what callers ask with
// errors.Is and errors.As.
func NewError(err error) *Error {
	e := &Error{Kind: KindFailed, Message: err.Error()}
	var ce *keys.ConflictError
	switch {
	case errors.As(err, &ce):
		e.Kind, e.Fingerprint, e.Owner = KindConflict, ce.Fingerprint, ce.Owner
	case errors.Is(err, keys.ErrNotFound):
		e.Kind = KindNotFound
	case errors.Is(err, keys.ErrLastKey):
		e.Kind = KindLastKey
	}
	return e
}

// Err is the error e stands for: its message, wrapping the keys error of
// its kind.
func (e *Error) Err() error {
	var cause error
	switch e.Kind {
	case KindConflict:
		cause = &keys.ConflictError{Fingerprint: e.Fingerprint, Owner: e.Owner}
	case KindNotFound:
		cause = keys.ErrNotFound
	case KindLastKey:
		cause = keys.ErrLastKey
	}
	return &remoteError{msg: e.Message, cause: cause}
}

// remoteError is an error of the helper: its message, and the keys error
// it stands for.
type remoteError struct {
	msg   string
	cause error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.cause }

// Check checks a request before anything is written: the operation is
// known and has what it needs.
func (r *Request) Check() error {
	switch r.Op {
	case OpKeysAdd, OpKeysImport:
		if len(r.Records) == 0 {
			return fmt.Errorf("statewrite: %s without records", r.Op)
		}
	case OpKeysRemove:
		if len(r.Fingerprints) == 0 {
			return errors.New("statewrite: keys-remove without fingerprints")
		}
	case OpKeysRemoveUser:
		return keys.ValidUsername(r.User)
	case OpKeysRemoveOwn:
		if len(r.Fingerprints) != 1 {
			return errors.New("statewrite: keys-remove-own takes one fingerprint")
		}
		return keys.ValidUsername(r.User)
	case OpPolicyPush:
		if len(r.Policy) == 0 {
			return errors.New("statewrite: policy-push without a document")
		}
	default:
		return fmt.Errorf("statewrite: unknown operation %s", keys.Quote(r.Op))
	}
	return nil
}
