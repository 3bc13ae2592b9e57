package wire

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gitserver/gitserver/shim"
)

// RoundTrip sends op's request and returns the decoded response.
type RoundTrip func(ctx context.Context, op string, req *Request) (*Response, error)

// Client is a shim.Driver that speaks the protocol through Do.
type Client struct {
	Name string // prefixes errors: "execdriver", "httpdriver"
	Do   RoundTrip
}

var _ shim.Driver = (*Client)(nil)

// Model is the user model of a remote driver: its JSON, opaque to
// gitserver, handed back to authorize as it came.
type Model json.RawMessage

func (c *Client) call(ctx context.Context, op string, req *Request) (*Response, error) {
	r, err := c.Do(ctx, op, req)
	if err != nil {
		return nil, err
	}
	switch r.Error {
	case "":
		return r, nil
	case CodeUnknownKey:
		return nil, shim.ErrUnknownKey
	case CodeUnknownUser:
		return nil, shim.ErrUnknownUser
	}
	return nil, fmt.Errorf("%s: %s: driver answered %s: %s", c.Name, op, r.Error, truncate(r.Message))
}

// Authenticate sends the offered key.
func (c *Client) Authenticate(ctx context.Context, cr shim.Credentials) (string, error) {
	r, err := c.call(ctx, OpAuthenticate, &Request{Login: cr.LoginUser, KeyType: cr.KeyType, Key: cr.Key, Fingerprint: cr.Fingerprint})
	if err != nil {
		return "", err
	}
	if r.User == "" {
		return "", fmt.Errorf("%s: authenticate: %w: no user", c.Name, ErrMalformed)
	}
	return r.User, nil
}

// GetUserModel asks for user's model, an opaque JSON value.
func (c *Client) GetUserModel(ctx context.Context, user string) (shim.UserModel, error) {
	r, err := c.call(ctx, OpUserModel, &Request{User: user})
	if err != nil {
		return nil, err
	}
	if len(r.Model) == 0 || string(r.Model) == "null" {
		return nil, fmt.Errorf("%s: user_model: %w: no model", c.Name, ErrMalformed)
	}
	return Model(r.Model), nil
}

// Authorize hands the model back with the command and the path as sent.
func (c *Client) Authorize(ctx context.Context, m shim.UserModel, command, path string) (shim.Decision, error) {
	model, ok := m.(Model)
	if !ok {
		return shim.Decision{}, fmt.Errorf("%s: foreign user model %T", c.Name, m)
	}
	r, err := c.call(ctx, OpAuthorize, &Request{Model: json.RawMessage(model), Command: command, Path: path})
	if err != nil {
		return shim.Decision{}, err
	}
	if r.Allow == nil {
		return shim.Decision{}, fmt.Errorf("%s: authorize: %w: no allow", c.Name, ErrMalformed)
	}
	return shim.Decision{Allow: *r.Allow, Rule: truncate(r.Rule)}, nil
}

// RepoPath asks where the repository lives; the shim checks the answer.
func (c *Client) RepoPath(ctx context.Context, path string) (string, error) {
	r, err := c.call(ctx, OpRepoPath, &Request{Path: path})
	if err != nil {
		return "", err
	}
	if r.Path == "" {
		return "", fmt.Errorf("%s: repopath: %w: no path", c.Name, ErrMalformed)
	}
	return r.Path, nil
}

// truncate bounds a driver's text before it reaches the log.
func truncate(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
