package policy

import "fmt"

// RefOp is what one pushed ref update does. The zero value is not an
// operation: DecideRef denies it.
type RefOp uint8

// The ref operations a push may hold.
const (
	RefCreate      RefOp = iota + 1 // a new ref, tags included; needs create-ref (write)
	RefFastForward                  // an update that keeps the old commit, of a ref other than a tag; needs fast-forward (write)
	RefRewind                       // a non-fast-forward update, or any update of an existing tag; needs rewind (force)
	RefDelete                       // a deleted ref; needs delete-ref (force)
)

// The pre-receive hook classifies updates (internal/hooks): as in
// gitolite, which treats any change to an existing tag as a rewind ("+"),
// it calls every update of an existing refs/tags/ ref RefRewind, even a
// fast-forward. Moving a published tag rewrites history that others
// have fetched, so it needs force; creating a tag needs write.

var refOpNames = [...]string{
	RefCreate:      "create",
	RefFastForward: "fast-forward",
	RefRewind:      "non-fast-forward",
	RefDelete:      "delete",
}

// String names the operation, e.g. "non-fast-forward".
func (o RefOp) String() string {
	if o > 0 && int(o) < len(refOpNames) {
		return refOpNames[o]
	}
	return fmt.Sprintf("RefOp(%d)", uint8(o))
}

// Right is the right the operation needs: create-ref, fast-forward,
// rewind or delete-ref (so a write rule creates and fast-forwards, a
// force rule also rewinds and deletes), or none for an invalid
// operation, which Check denies.
func (o RefOp) Right() Rights {
	switch o {
	case RefCreate:
		return RightCreateRef
	case RefFastForward:
		return RightFastForward
	case RefRewind:
		return RightRewind
	case RefDelete:
		return RightDeleteRef
	}
	return 0
}

// ParseRefOp returns the operation named s, as String names it, or
// "rewind" for RefRewind.
func ParseRefOp(s string) (RefOp, error) {
	if s == "rewind" {
		return RefRewind, nil
	}
	for o, name := range refOpNames {
		if o > 0 && s == name {
			return RefOp(o), nil
		}
	}
	return 0, fmt.Errorf("policy: unknown ref operation %q (want create, fast-forward, rewind or delete)", s)
}
