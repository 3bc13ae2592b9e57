package policy

import "fmt"

// RefOp is what one pushed ref update does. The zero value is not an
// operation: DecideRef denies it.
type RefOp uint8

// The ref operations a push may hold.
const (
	RefCreate      RefOp = iota + 1 // a new ref, tags included; needs write
	RefFastForward                  // an update that keeps the old commit, of a ref other than a tag; needs write
	RefRewind                       // a non-fast-forward update, or any update of an existing tag; needs force
	RefDelete                       // a deleted ref; needs force
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

// Want is the level the operation needs: Write to create a ref or
// fast-forward it, Force to rewind or delete it, None for an invalid
// operation (which Decide denies).
func (o RefOp) Want() Access {
	switch o {
	case RefCreate, RefFastForward:
		return Write
	case RefRewind, RefDelete:
		return Force
	}
	return None
}
