package statewrite

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/keys"
)

// TestErrorCrossesThePipe: what callers ask of a write's error (errors.Is,
// errors.As) still holds after JSON, with the helper's message.
func TestErrorCrossesThePipe(t *testing.T) {
	conflict := fmt.Errorf("pgstore: %w", &keys.ConflictError{Fingerprint: "SHA256:x", Owner: "alice"})
	for _, tt := range []struct {
		err  error
		kind string
		is   func(error) bool
	}{
		{conflict, KindConflict, func(err error) bool {
			var ce *keys.ConflictError
			return errors.As(err, &ce) && ce.Owner == "alice" && ce.Fingerprint == "SHA256:x"
		}},
		{fmt.Errorf("x: %w", keys.ErrNotFound), KindNotFound, func(err error) bool { return errors.Is(err, keys.ErrNotFound) }},
		{keys.ErrLastKey, KindLastKey, func(err error) bool { return errors.Is(err, keys.ErrLastKey) }},
		{errors.New("cannot reach PostgreSQL"), KindFailed, func(err error) bool { return !errors.Is(err, keys.ErrNotFound) }},
	} {
		data, err := json.Marshal(NewError(tt.err))
		if err != nil {
			t.Fatal(err)
		}
		var e Error
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatal(err)
		}
		got := e.Err()
		if e.Kind != tt.kind || !tt.is(got) || got.Error() != tt.err.Error() {
			t.Errorf("%v through JSON = %s %v; want kind %s, the same message and meaning", tt.err, e.Kind, got, tt.kind)
		}
	}
}

func TestRequestCheck(t *testing.T) {
	good := []Request{
		{Op: OpKeysAdd, Records: []keys.Record{{}}},
		{Op: OpKeysRemove, Fingerprints: []string{"SHA256:x"}},
		{Op: OpKeysRemoveUser, User: "alice"},
		{Op: OpKeysRemoveOwn, User: "alice", Fingerprints: []string{"SHA256:x"}},
		{Op: OpPolicyPush, Policy: []byte("#")},
	}
	for _, r := range good {
		if err := r.Check(); err != nil {
			t.Errorf("Check(%+v) = %v", r, err)
		}
	}
	bad := []Request{
		{Op: "drop"},
		{Op: OpKeysImport},
		{Op: OpKeysRemove},
		{Op: OpKeysRemoveUser, User: "-x"},
		{Op: OpKeysRemoveOwn, User: "alice", Fingerprints: []string{"a", "b"}},
		{Op: OpPolicyPush},
	}
	for _, r := range bad {
		if err := r.Check(); err == nil {
			t.Errorf("Check(%+v) = nil, want an error", r)
		}
	}
}

func TestLimitedWriter(t *testing.T) {
	var b strings.Builder
	w := &limitedWriter{w: &b, n: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if b.String() != "abcde" {
		t.Errorf("kept %q, want the first 5 bytes", b.String())
	}
}
