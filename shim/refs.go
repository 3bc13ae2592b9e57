package shim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// RefOp is what one pushed ref update does; the hook finds it out with git.
type RefOp uint8

// The ref operations a push may hold.
const (
	RefCreate      RefOp = iota + 1 // old is zero
	RefFastForward                  // old is an ancestor of new, and the ref is not a tag
	RefRewind                       // a non-fast-forward update, or any update of an existing tag (refs/tags/)
	RefDelete                       // new is zero
)

// RefUpdate is one line of what git gives the pre-receive hook.
type RefUpdate struct {
	Old, New string // object names; all zeros for none
	Ref      string // full ref name, e.g. "refs/heads/main"
	Op       RefOp  // set by the caller once it knows
}

// RefAuthorizer is implemented by a driver that decides pushed ref
// updates one by one. The pre-receive hook asks it about every update
// of a push; a driver that does not implement it has already decided
// the push as a whole in Authorize.
type RefAuthorizer interface {
	// AuthorizeRef decides update u of the repository at path (as
	// Authorize gets it). u.Ref is the ref git will change: for a push
	// to a symbolic ref, its target. Decision.Rule may carry a reason
	// for the log.
	AuthorizeRef(ctx context.Context, model UserModel, path string, u RefUpdate) (Decision, error)
}

// Bounds on what ParseRefUpdates reads.
const (
	MaxRefUpdates = 100000 // ref updates in one push
	maxRefLine    = 4096   // one line: two object names, a ref name
)

// ParseRefUpdates reads pre-receive's input: lines "OLD NEW REF", object
// names in lowercase hex (40 or 64 digits, SHA-1 or SHA-256), the ref a
// full name under "refs/". Anything else is an error: git writes nothing
// else, and the hook fails closed.
func ParseRefUpdates(r io.Reader) ([]RefUpdate, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxRefLine)
	var out []RefUpdate
	for n := 1; sc.Scan(); n++ {
		if len(out) == MaxRefUpdates {
			return nil, fmt.Errorf("shim: more than %d ref updates", MaxRefUpdates)
		}
		u, err := parseRefLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("shim: ref update line %d: %v", n, err)
		}
		out = append(out, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("shim: ref updates: %w", err)
	}
	return out, nil
}

func parseRefLine(line string) (RefUpdate, error) {
	f := strings.Split(line, " ")
	if len(f) != 3 {
		return RefUpdate{}, fmt.Errorf("want 3 fields, got %d", len(f))
	}
	u := RefUpdate{Old: f[0], New: f[1], Ref: f[2]}
	if !objectName(u.Old) || !objectName(u.New) || len(u.Old) != len(u.New) {
		return RefUpdate{}, fmt.Errorf("bad object name")
	}
	if !ValidRef(u.Ref) {
		return RefUpdate{}, fmt.Errorf("bad ref name %s", echo(u.Ref))
	}
	return u, nil
}

// objectName reports whether s is a full hex object name.
func objectName(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	return allBytes(s, func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' })
}

// IsZero reports whether an object name is all zeros: no object.
func IsZero(name string) bool { return strings.Trim(name, "0") == "" }

// ValidRef reports whether s is a ref name gitserver accepts in a push:
// under "refs/", printable ASCII without space or any of ~^:?*[\, no
// empty, "." or ".."-holding or dot-led segment, no ".lock" suffix. git
// has already refused worse; this keeps the hook's own view as strict.
func ValidRef(s string) bool {
	if !strings.HasPrefix(s, "refs/") || len(s) > 1024 || strings.HasSuffix(s, ".lock") || strings.Contains(s, "..") || strings.Contains(s, "@{") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
	}
	return true
}

// CreateAuthorizer is implemented by a driver that lets users create a
// repository by pushing to it. The shim asks it only for receive-pack on
// a repository that does not exist, after Authorize allowed the push.
type CreateAuthorizer interface {
	AuthorizeCreate(ctx context.Context, model UserModel, path string) (Decision, error)
}
