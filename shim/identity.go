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
	// CheckKey returns user's model (as GetUserModel would: a key that
	// is the user's proves the user exists) when the key with
	// fingerprint belongs to user now; ErrUnknownKey when it is gone or
	// belongs to someone else; another error when the store cannot be
	// read (which denies too). The pipeline then does not call
	// GetUserModel: one look at the store per request.
	CheckKey(ctx context.Context, user, fingerprint string) (UserModel, error)
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

// identify decides who req is from, now, and returns the driver's model
// of them. A KeyChecker driver confirms that each key (the credentials',
// or Key) is still the user's, and gives the model: a fingerprint is the
// SHA-256 of the key, which the client proved it holds at login, so the
// key data need not be compared again. Any other driver authenticates the
// credentials again (all must belong to one user, the one the connection
// authenticated as, if it says) and is asked for the user model, which is
// where it refuses a removed user.
func (s *Shim) identify(ctx context.Context, req Request) (user, key string, model UserModel, err error) {
	user, key = req.User, req.Key
	kc, checks := s.Driver.(KeyChecker)
	var fps []string
	for _, c := range req.Credentials {
		fps, key = append(fps, c.Fingerprint), c.Fingerprint
		if checks && user != "" {
			continue // CheckKey below confirms the connection's user
		}
		u, err := Authenticate(ctx, s.Driver, c)
		if err != nil {
			return "", "", nil, fmt.Errorf("key %s: %w", c.Fingerprint, err)
		}
		if user != "" && u != user {
			return "", "", nil, fmt.Errorf("key %s belongs to user %s now, not %s", c.Fingerprint, u, user)
		}
		user = u
	}
	if user == "" {
		return "", "", nil, errors.New("no user: neither a user nor credentials came with the request")
	}
	if !checks {
		if model, err = s.Driver.GetUserModel(ctx, user); err != nil {
			return "", "", nil, fmt.Errorf("user model: %w", err)
		}
		return user, key, model, nil
	}
	if fps == nil {
		fps = []string{key}
	}
	for _, fp := range fps {
		if model, err = kc.CheckKey(ctx, user, fp); err != nil {
			return "", "", nil, fmt.Errorf("key %s of %s: %w", fp, user, err)
		}
	}
	return user, key, model, nil
}
