package policy

import "fmt"

// RefOp is what one pushed ref update does. The zero value is not an
// operation: DecideRef denies it.
type RefOp uint8

// The ref operations a push may hold.
const (
	RefCreate      RefOp = iota + 1 // a new ref; needs write
	RefFastForward                  // an update that keeps the old commit; needs write
	RefRewind                       // a non-fast-forward update; needs force
	RefDelete                       // a deleted ref; needs force
)

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
