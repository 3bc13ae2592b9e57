// Package wire is the message format shared by the exec and http drivers:
// one JSON request and one JSON response per driver operation, as
// documented in contrib/drivers/PROTOCOL.md. Client turns a round trip
// (a process's stdin/stdout, an HTTP POST) into a shim.Driver.
//
// # Security
//
// A response is untrusted input. It is bounded (MaxMessage), decoded as
// exactly one JSON object, and checked for the field the operation needs;
// anything else is an error, and every error denies. A user name is the
// driver's to choose (authorized-keys still checks it is a valid name);
// a repository path is checked by the shim, which refuses any path
// outside the repos root whatever the driver says.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Version is the protocol version this package speaks.
const Version = 1

// ProtocolName names the protocol in the exec driver's handshake.
const ProtocolName = "gitserver-driver"

// MaxMessage bounds one response, in bytes: 1 MiB.
const MaxMessage = 1 << 20

// The operations.
const (
	OpAuthenticate = "authenticate"
	OpUserModel    = "user_model"
	OpAuthorize    = "authorize"
	OpRepoPath     = "repopath"
)

// Error codes a driver answers with. Any other code is a failure.
const (
	CodeUnknownKey  = "unknown_key"
	CodeUnknownUser = "unknown_user"
)

// Request is one operation. Op and ID are set by the exec driver only
// (the http driver names the operation in the URL).
type Request struct {
	ID int64  `json:"id,omitempty"`
	Op string `json:"op,omitempty"`

	// authenticate
	Login       string `json:"login,omitempty"`
	KeyType     string `json:"key_type,omitempty"`
	Key         []byte `json:"key,omitempty"` // SSH wire format, base64 in JSON
	Fingerprint string `json:"fingerprint,omitempty"`
	// user_model
	User string `json:"user,omitempty"`
	// authorize
	Model   json.RawMessage `json:"model,omitempty"`
	Command string          `json:"command,omitempty"`
	// authorize, repopath: the path exactly as the client sent it
	Path string `json:"path,omitempty"`
}

// Response is a driver's answer. Exactly the field its operation needs
// is read; Error, when set, overrides everything else. A Go driver
// (Serve) writes only the fields it sets.
type Response struct {
	ID      int64           `json:"id"`
	User    string          `json:"user,omitempty"`
	Model   json.RawMessage `json:"model,omitempty"`
	Allow   *bool           `json:"allow,omitempty"`
	Rule    string          `json:"rule,omitempty"`
	Path    string          `json:"path,omitempty"`
	Error   string          `json:"error,omitempty"`
	Message string          `json:"message,omitempty"`
}

// Hello is the exec driver's handshake, both ways: gitserver sends the
// versions it speaks, the driver answers with the one it chose.
type Hello struct {
	Protocol string `json:"protocol"`
	Versions []int  `json:"versions,omitempty"`
	Version  int    `json:"version,omitempty"`
}

// ErrMalformed is wrapped by every error about a response that does not
// follow the protocol.
var ErrMalformed = errors.New("malformed response")

// Decode parses one response: a single JSON object of at most MaxMessage
// bytes.
func Decode(data []byte) (*Response, error) {
	if len(data) > MaxMessage {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxMessage)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object: %s", ErrMalformed, excerpt(data))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var r Response
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v: %s", ErrMalformed, err, excerpt(data))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: more than one JSON value: %s", ErrMalformed, excerpt(data))
	}
	return &r, nil
}

// excerpt quotes the start of a bad response for the operator's log.
func excerpt(b []byte) string {
	const n = 80
	if len(b) > n {
		return fmt.Sprintf("%q...", b[:n])
	}
	return fmt.Sprintf("%q", b)
}
