package gitolite

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// Bounds on the files of a wild repository. gitolite writes a name and a
// few lines; a larger file is an error, never read in part.
const (
	MaxCreator = 256
	MaxPerms   = 64 << 10
)

// usernamePatt is gitolite's USERNAME_PATT: what it accepts as a member
// in gl-perms ("@name" is a group).
var usernamePatt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^@?[0-9a-zA-Z][-0-9a-zA-Z._@+]*$`) })

// ParseCreator reads a wild repository's gl-creator, which gitolite reads
// as the whole file less one final newline, and returns the creator. A
// name that is not a valid gitserver username (keys.ValidUsername) is an
// error, as is a file larger than MaxCreator bytes.
func ParseCreator(r io.Reader) (string, error) {
	data, err := readAtMost(r, MaxCreator, "gl-creator")
	if err != nil {
		return "", err
	}
	name := strings.TrimSuffix(string(data), "\n")
	if err := keys.ValidUsername(name); err != nil {
		return "", fmt.Errorf("gitolite: gl-creator: %w", err)
	}
	return name, nil
}

// Perm is one role member from a gl-perms file.
type Perm struct {
	Line   int
	Role   string
	Member string // a user, "@group" or "@all"
}

// ParsePerms reads a wild repository's gl-perms as gitolite's user_roles
// does: each line is ROLE MEMBER..., or ROLE = MEMBER...; leading
// whitespace and one '@' before the role are dropped, a line starting
// with '#' is a comment. A role not in roles, a CREATOR line (gitolite's
// extra creators, which gitserver has no place for) and a member that
// gitolite or gitserver (policy.CheckRoleMember) would refuse are
// returned as warnings, never dropped silently. A file larger than
// MaxPerms bytes is an error.
func ParsePerms(r io.Reader, roles []string) ([]Perm, []Warning, error) {
	data, err := readAtMost(r, MaxPerms, "gl-perms")
	if err != nil {
		return nil, nil, err
	}
	var perms []Perm
	var warns []Warning
	for i, line := range strings.Split(string(data), "\n") {
		role, members := permsLine(line)
		n := i + 1
		switch {
		case role == "":
			continue
		case role == "CREATOR":
			warns = append(warns, Warning{n, "CREATOR in gl-perms is not imported (gitserver has one creator, its gitserver.creator)"})
			continue
		case !slices.Contains(roles, role):
			warns = append(warns, Warning{n, fmt.Sprintf("role %s is not one of the rc file's ROLES (%s); not imported", keys.Quote(role), strings.Join(roles, ", "))})
			continue
		}
		for _, m := range members {
			if w := checkMember(role, m); w != "" {
				warns = append(warns, Warning{n, w})
				continue
			}
			perms = append(perms, Perm{Line: n, Role: role, Member: m})
		}
	}
	return perms, warns, nil
}

// perlSpace is Perl's \s on bytes: ASCII only, so a member with a
// non-ASCII space in it stays one (invalid) member, as in gitolite.
const perlSpace = " \t\n\r\f\v"

// permsLine splits one gl-perms line as gitolite does; role is "" for a
// blank or comment line.
func permsLine(line string) (role string, members []string) {
	line = strings.TrimLeft(line, perlSpace)
	line = strings.Replace(line, "=", " ", 1)
	line = strings.TrimPrefix(line, "@")
	if strings.HasPrefix(line, "#") {
		return "", nil
	}
	f := strings.FieldsFunc(line, func(r rune) bool { return r < 0x80 && strings.ContainsRune(perlSpace, r) })
	if len(f) == 0 {
		return "", nil
	}
	return f[0], f[1:]
}

// checkMember returns why member of role is not imported, or "".
func checkMember(role, member string) string {
	if !usernamePatt().MatchString(member) {
		return fmt.Sprintf("member %s of %s is not a gitolite user or group (gitolite ignores it too); not imported", keys.Quote(member), role)
	}
	if err := policy.CheckRoleMember(role, member); err != nil {
		return fmt.Sprintf("member %s of %s: %v; not imported", keys.Quote(member), role, err)
	}
	return ""
}

// readAtMost reads all of r, an error if it is longer than max bytes.
func readAtMost(r io.Reader, max int, what string) ([]byte, error) {
	data, err := bounded.ReadAll(r, int64(max), what)
	if err != nil {
		return nil, fmt.Errorf("gitolite: %w", err)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, fmt.Errorf("gitolite: %s contains a NUL byte", what)
	}
	return data, nil
}
