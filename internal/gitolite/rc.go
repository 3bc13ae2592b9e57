package gitolite

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/gitserver/gitserver/internal/bounded"
)

// maxRC bounds the rc file RolesFromRC reads.
const maxRC = 1 << 20

var (
	rolesBlock = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)\bROLES\s*=>\s*\{(.*?)\}`) })
	roleEntry  = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\s*['"]?([0-9A-Za-z][-0-9A-Za-z._]*)['"]?\s*=>\s*1\s*,?\s*$`)
	})
)

// RolesFromRC returns the role names of a gitolite rc file (its
// ROLES => { NAME => 1, ... } entry), or DefaultRoles when it has none.
// It reads the file as text, without running Perl; an entry it cannot
// read is an error.
func RolesFromRC(r io.Reader) ([]string, error) {
	data, err := bounded.ReadAll(r, maxRC, "rc file")
	if err != nil {
		return nil, fmt.Errorf("gitolite: %w", err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		lines = append(lines, l)
	}
	m := rolesBlock().FindStringSubmatch(strings.Join(lines, "\n"))
	if m == nil {
		return DefaultRoles, nil
	}
	var roles []string
	for _, l := range strings.Split(m[1], "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		e := roleEntry().FindStringSubmatch(l)
		if e == nil {
			return nil, fmt.Errorf("gitolite: rc file: cannot read role entry %q (want NAME => 1,)", strings.TrimSpace(l))
		}
		roles = append(roles, e[1])
	}
	return roles, nil
}
