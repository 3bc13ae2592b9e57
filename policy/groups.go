package policy

import (
	"fmt"
	"slices"
	"strings"
)

// allUsers is the users entry that matches every authenticated user.
const allUsers = "@all"

// maxExpansion bounds the work of flattening groups (memberships copied
// from one group into another), so that a policy of nested groups cannot
// make Parse quadratic in its size.
const maxExpansion = 1 << 22

// validUser reports whether s is a user name: letters, digits and ._@-,
// not starting with @ (which marks a group) and not "." or "..", so that
// {user} in a pattern always stands for one ordinary path segment.
func validUser(s string) bool {
	return validName(s, true) && s[0] != '@'
}

// ValidGroup reports whether name (without its "@") may name a group in
// [groups]: letters, digits and ._-, not "." or "..", and not "all",
// which is reserved for @all.
func ValidGroup(name string) bool { return validGroup(name) && name != "all" }

// validGroup reports whether s is a group name as written in [groups]:
// letters, digits and ._-, not "." or "..".
func validGroup(s string) bool {
	return validName(s, false)
}

// validName reports whether s is a name of letters, digits and ._- (and
// @ if at is set), other than "." and "..".
func validName(s string, at bool) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '_' || c == '-' || at && c == '@'
		if !ok {
			return false
		}
	}
	return true
}

// CheckRoleMember checks one role member as a repository stores it: role
// is a role name (letters, digits and ._-) and member a user name,
// "@group" or "@all". It does not know which roles or groups a policy
// has; Check ignores the ones it lacks.
func CheckRoleMember(role, member string) error {
	if !validGroup(role) {
		return fmt.Errorf("policy: invalid role name %q (letters, digits and ._-)", role)
	}
	if g, ok := groupRef(member); ok && (g == "all" || validGroup(g)) || validUser(member) {
		return nil
	}
	return fmt.Errorf("policy: invalid role member %q (a user name, @group or @all)", member)
}

// groupRef returns the group an "@name" entry names.
func groupRef(entry string) (string, bool) {
	return strings.CutPrefix(entry, "@")
}

// checkGroups checks names and references of the [groups] table, in the
// order of the file.
func checkGroups(groups map[string][]string, ix *index) error {
	for _, g := range ix.groupOrder(groups) {
		if g == "all" {
			return ix.groupErr(g, `group name "all" is reserved (@all is every user)`)
		}
		if !validGroup(g) {
			return ix.groupErr(g, "invalid group name %q", g)
		}
		for _, m := range groups[g] {
			if err := checkMember(groups, m); err != "" {
				return ix.groupErr(g, "group %q: %s", g, err)
			}
		}
	}
	return nil
}

// checkMember returns what is wrong with a group's member entry, or "".
func checkMember(groups map[string][]string, m string) string {
	if m == allUsers {
		return "@all cannot be a group member (use it in a rule's users)"
	}
	if name, ok := groupRef(m); ok {
		if _, ok := groups[name]; !ok {
			return fmt.Sprintf("unknown group %q", m)
		}
		return ""
	}
	if !validUser(m) {
		return fmt.Sprintf("invalid user name %q", m)
	}
	return ""
}

// flattener expands nested groups into sorted lists of users.
type flattener struct {
	raw   map[string][]string
	out   map[string][]string
	state map[string]uint8 // visiting or done
	path  []string
	work  int
	ix    *index
}

const (
	visiting = 1
	done     = 2
)

// flatten returns each group's users, nested groups expanded. groups must
// have passed checkGroups.
func flatten(groups map[string][]string, ix *index) (map[string][]string, error) {
	f := &flattener{
		raw:   groups,
		out:   make(map[string][]string, len(groups)),
		state: make(map[string]uint8, len(groups)),
		ix:    ix,
	}
	for _, g := range ix.groupOrder(groups) {
		if f.state[g] != 0 {
			continue
		}
		if err := f.visit(g); err != nil {
			return nil, err
		}
	}
	return f.out, nil
}

func (f *flattener) visit(g string) error {
	f.state[g] = visiting
	f.path = append(f.path, g)
	set := make(map[string]struct{})
	for _, m := range f.raw[g] {
		name, isGroup := groupRef(m)
		if !isGroup {
			set[m] = struct{}{}
			continue
		}
		switch f.state[name] {
		case visiting:
			return f.ix.groupErr(g, "group cycle: %s -> %s", strings.Join(f.path, " -> "), name)
		case 0:
			if err := f.visit(name); err != nil {
				return err
			}
		}
		if f.work += len(f.out[name]); f.work > maxExpansion {
			return f.ix.groupErr(g, "groups expand to more than %d memberships", maxExpansion)
		}
		for _, u := range f.out[name] {
			set[u] = struct{}{}
		}
	}
	users := make([]string, 0, len(set))
	for u := range set {
		users = append(users, u)
	}
	slices.Sort(users)
	f.out[g] = users
	f.state[g] = done
	f.path = f.path[:len(f.path)-1]
	return nil
}
