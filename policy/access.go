package policy

import (
	"fmt"
	"strings"
)

// Access is a level of access to a repository. Levels are ordered: each
// one includes every level below it, so a request is allowed when the
// level granted is at least the level wanted. The zero value is None.
type Access uint8

// The access levels, lowest first. A new level goes in its place in this
// list, with its name in the table below.
const (
	None   Access = iota // no access; a rule granting None blocks later rules
	Read                 // fetch, clone, archive
	Write                // Read, push new refs and fast-forwards (not of tags)
	Force                // Write, and non-fast-forward updates, deletes and tag moves
	Create               // Force, and create the repository by pushing to it
	Admin                // everything, and manage other users' keys over SSH
)

// accessNames is indexed by Access; its order is the levels' order.
var accessNames = [...]string{
	None:   "none",
	Read:   "read",
	Write:  "write",
	Force:  "force",
	Create: "create",
	Admin:  "admin",
}

// ParseAccess returns the level named s ("none", "read", "write",
// "force", "create" or "admin").
// Names are lowercase; anything else is an error.
func ParseAccess(s string) (Access, error) {
	a, err := parseAccess(s)
	if err != nil {
		return None, fmt.Errorf("policy: %w", err)
	}
	return a, nil
}

// parseAccess is ParseAccess without the package prefix on errors.
func parseAccess(s string) (Access, error) {
	for a, name := range accessNames {
		if s == name {
			return Access(a), nil
		}
	}
	return None, fmt.Errorf("unknown access %q (want %s)", s, accessList())
}

// accessList is "none, read, ... or admin".
func accessList() string {
	n := len(accessNames)
	return strings.Join(accessNames[:n-1], ", ") + " or " + accessNames[n-1]
}

// String returns the level's name, or "Access(N)" for a value that is not
// a level.
func (a Access) String() string {
	if int(a) < len(accessNames) {
		return accessNames[a]
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// MarshalText returns the level's name; a value that is not a level is an
// error.
func (a Access) MarshalText() ([]byte, error) {
	if int(a) >= len(accessNames) {
		return nil, fmt.Errorf("policy: invalid access %d", uint8(a))
	}
	return []byte(accessNames[a]), nil
}

// UnmarshalText sets a to the level named by text, as ParseAccess does.
func (a *Access) UnmarshalText(text []byte) error {
	v, err := ParseAccess(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
