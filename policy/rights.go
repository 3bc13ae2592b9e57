package policy

import (
	"fmt"
	"math/bits"
	"strings"
)

// Rights is a set of rights a rule grants. A level (Access) stands for a
// set: write is read, create-ref and fast-forward; force adds rewind and
// delete-ref; create adds create-repo; admin adds admin. A rule's allow
// list names rights one by one, on top of its level or instead of one.
type Rights uint8

// The rights, one bit each. Ref rights are what one pushed ref update
// needs (see RefOp.Right); the others are about the whole repository.
const (
	RightRead        Rights = 1 << iota // fetch, clone, archive
	RightCreateRef                      // push a new ref, tags included
	RightFastForward                    // update a branch, keeping its old commit
	RightRewind                         // a non-fast-forward update, or any update of an existing tag
	RightDeleteRef                      // delete a ref
	RightCreateRepo                     // create a missing repository by pushing to it
	RightAdmin                          // manage other users' keys and repositories' HEADs over SSH

	// refRights are the rights that let a push start: a push needs one
	// of them on the whole repository, and each update its own.
	refRights = RightCreateRef | RightFastForward | RightRewind | RightDeleteRef
)

// rightNames is indexed by bit number; the names are the allow list's.
var rightNames = [...]string{"read", "create-ref", "fast-forward", "rewind", "delete-ref", "create-repo", "admin"}

// levelRights is what each level grants.
var levelRights = [...]Rights{
	None:   0,
	Read:   RightRead,
	Write:  RightRead | RightCreateRef | RightFastForward,
	Force:  RightRead | refRights,
	Create: RightRead | refRights | RightCreateRepo,
	Admin:  RightRead | refRights | RightCreateRepo | RightAdmin,
}

// Rights returns the rights level a grants; a value that is not a level
// grants none.
func (a Access) Rights() Rights {
	if int(a) < len(levelRights) {
		return levelRights[a]
	}
	return 0
}

// ParseRight returns the right named s: read, create-ref, fast-forward,
// rewind, delete-ref, create-repo or admin.
func ParseRight(s string) (Rights, error) {
	for i, name := range rightNames {
		if s == name {
			return 1 << i, nil
		}
	}
	return 0, fmt.Errorf("unknown right %q (want %s or %s)", s,
		strings.Join(rightNames[:len(rightNames)-1], ", "), rightNames[len(rightNames)-1])
}

// String lists the rights, e.g. "read+fast-forward", or "none".
func (r Rights) String() string {
	if r == 0 {
		return "none"
	}
	var names []string
	for r != 0 {
		i := bits.TrailingZeros8(uint8(r))
		r &^= 1 << i
		if i < len(rightNames) {
			names = append(names, rightNames[i])
		} else {
			names = append(names, fmt.Sprintf("Rights(%d)", 1<<i))
		}
	}
	return strings.Join(names, "+")
}

// Level returns the highest level whose rights r holds all of.
func (r Rights) Level() Access {
	best := None
	for a := range levelRights {
		if levelRights[a]&^r == 0 {
			best = Access(a)
		}
	}
	return best
}
