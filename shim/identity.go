package shim

import (
	"context"
	"errors"
	"fmt"

	"github.com/gitserver/gitserver/keys"
)

// KeyChecker is implemented by a driver that can tell from a fingerprint
// alone whether a key is still registered to a user: the file driver,
// whose key store sshd's forced command names the key by. The request
// pipeline asks it at every request, so that a key removed while a
// connection stays open (OpenSSH multiplexing runs many sessions on one
// login) stops working at the next session.
type KeyChecker interface {
	// CheckKey returns nil when the key with fingerprint belongs to user
	// now, ErrUnknownKey when it is gone or belongs to someone else,
	// and another error when the store cannot be read (which denies too).
	CheckKey(ctx context.Context, user, fingerprint string) error
}

// Authenticate asks d who the credentials belong to and checks that the
// answer is a valid gitserver username (keys.ValidUsername): a driver's
// answer ends up in sshd's forced command, in hook environments and in
// the log, so a malformed one is refused, never passed on. Both ways in,
// authorized-keys behind sshd and serve's own listener, authenticate
// through it.
func Authenticate(ctx context.Context, d Driver, c Credentials) (string, error) {
	user, err := d.Authenticate(ctx, c)
	if err != nil {
		return "", err
	}
	if err := keys.ValidUsername(user); err != nil {
		return "", fmt.Errorf("shim: driver returned an invalid username: %w", err)
	}
	return user, nil
}

// identify decides who req is from, now. With credentials, each key is
// authenticated again and all must belong to one user, the one the
// connection authenticated as (if it says). Without, a KeyChecker driver
// confirms that the key is still the user's; other drivers are left to
// refuse a removed user in GetUserModel.
func (s *Shim) identify(ctx context.Context, req Request) (user, key string, err error) {
	user, key = req.User, req.Key
	for _, c := range req.Credentials {
		u, err := Authenticate(ctx, s.Driver, c)
		if err != nil {
			return "", "", fmt.Errorf("key %s: %w", c.Fingerprint, err)
		}
		if user != "" && u != user {
			return "", "", fmt.Errorf("key %s belongs to user %s now, not %s", c.Fingerprint, u, user)
		}
		user, key = u, c.Fingerprint
	}
	if user == "" {
		return "", "", errors.New("no user: neither a user nor credentials came with the request")
	}
	if len(req.Credentials) > 0 {
		return user, key, nil
	}
	if kc, ok := s.Driver.(KeyChecker); ok {
		if err := kc.CheckKey(ctx, user, key); err != nil {
			return "", "", fmt.Errorf("key %s of %s: %w", key, user, err)
		}
	}
	return user, key, nil
}
