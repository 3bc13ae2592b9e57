package builtin

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// maxKeysInput bounds what "keys add" reads from stdin.
const maxKeysInput = 64 << 10

// keysCmd runs "keys list|add|remove [--user NAME]".
func keysCmd(e Env) error {
	b, pol, err := backend(e)
	if err != nil {
		return err
	}
	target := e.User
	if e.Cmd.User != "" && e.Cmd.User != e.User {
		if !pol.IsAdmin(e.User) {
			return fail(e, MsgNotAdmin, errDenied)
		}
		target = e.Cmd.User
	}
	store := b.KeyStore()
	switch e.Cmd.Sub {
	case shim.KeysList:
		return keysList(e, store, target)
	case shim.KeysAdd:
		return keysAdd(e, store, target)
	case shim.KeysRemove:
		return keysRemove(e, store, target)
	}
	return fail(e, shim.MsgBadBuiltin, fmt.Errorf("unknown keys subcommand %q", e.Cmd.Sub))
}

// keysList prints target's keys: fingerprint, type, date added, title.
func keysList(e Env, store *keys.Store, target string) error {
	err := store.List(target, func(r keys.Record) error {
		_, err := fmt.Fprintf(e.Stdout, "%s %s %s %s\n", r.Key.Fingerprint, r.Key.Type, r.Added.Format(time.DateOnly), r.Title)
		return err
	})
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	return nil
}

// keysAdd adds the key lines on stdin for target, all or nothing.
func keysAdd(e Env, store *keys.Store, target string) error {
	data, err := bounded.ReadAll(e.Stdin, maxKeysInput, "stdin")
	var tooLarge *bounded.TooLargeError
	if errors.As(err, &tooLarge) {
		return fail(e, fmt.Sprintf("gitserver: more than %d bytes on stdin; no key was added", maxKeysInput), err)
	}
	if err != nil {
		return fail(e, shim.MsgUnavailable, err)
	}
	parsed, errs := sshkey.ParseLines(bytes.NewReader(data))
	for _, le := range errs {
		fmt.Fprintf(e.Stderr, "gitserver: stdin:%v\n", le)
	}
	switch {
	case len(errs) > 0:
		return fail(e, "gitserver: bad key line(s); no key was added", fmt.Errorf("%d bad line(s)", len(errs)))
	case len(parsed) == 0:
		return fail(e, "gitserver: no key on stdin; send lines like 'ssh-ed25519 AAAA... comment'", errors.New("no key"))
	}
	recs := make([]keys.Record, len(parsed))
	for i, k := range parsed {
		recs[i] = keys.Record{User: target, Title: k.Comment, Key: k}
	}
	added, err := store.Add(recs)
	var ce *keys.ConflictError
	if errors.As(err, &ce) {
		// Do not say whose key it is.
		return fail(e, "gitserver: a key is already registered to another user; no key was added", err)
	}
	if err != nil {
		return fail(e, "gitserver: no key was added", err)
	}
	for _, r := range added {
		fmt.Fprintf(e.Stdout, "added %s %s\n", r.Key.Fingerprint, r.Key.Type)
	}
	if n := len(recs) - len(added); n > 0 {
		fmt.Fprintf(e.Stdout, "%d key(s) were already yours\n", n)
	}
	return nil
}

// keysRemove removes one of target's keys, never another user's, and not
// the last key a user has of their own.
func keysRemove(e Env, store *keys.Store, target string) error {
	self := target == e.User
	err := store.RemoveOwn(target, e.Cmd.Arg, self)
	switch {
	case errors.Is(err, keys.ErrNotFound):
		return fail(e, "gitserver: no such key; see 'keys list'", err)
	case errors.Is(err, keys.ErrLastKey):
		return fail(e, "gitserver: refusing to remove your last key; add another one first", err)
	case err != nil:
		return fail(e, shim.MsgUnavailable, err)
	}
	fmt.Fprintf(e.Stdout, "removed %s\n", e.Cmd.Arg)
	return nil
}
