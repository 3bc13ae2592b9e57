// Package gitolite translates a gitolite setup into gitserver's: the
// rules of gitolite.conf into policy.toml text (Translate) and the user
// names of a keydir (UserFromKeyFile). It is pure: it reads what it is
// given and touches no file.
//
// # Security
//
// gitolite and gitserver decide differently: gitolite skips rules that do
// not grant the access wanted and stops at the first grant or the first
// "-" matching the ref; gitserver's first matching rule decides. Translate
// orders the rules so that reads, pushes and ref creation or fast-forward
// get gitolite's answers, and warns where it cannot promise that (rewinds
// after "-" rules, C for a group). Tags need no translation: like
// gitolite, gitserver treats any change to an existing tag as a rewind,
// so RW creates tags and only RW+ moves or deletes them. Every line it
// cannot translate is reported, never dropped silently.
package gitolite

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// Bounds on the gitolite.conf Translate reads, in whole MiB and KiB for
// the error messages. A larger file or line is an error, never cut.
const (
	maxConf     = 4 << 20
	maxConfLine = 64 << 10
)

// Warning is a line Translate could not translate faithfully.
type Warning struct {
	Line int
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("line %d: %s", w.Line, w.Msg) }

// permLine is one "PERM [REFEX...] = USERS..." line under a repo line.
type permLine struct {
	line  int
	repos []string // names and regexes as written (groups expanded)
	perm  string   // R, RW, RW+, -, C, RWC, RW+C
	refs  []string // refexes as written
	users []string
}

// conf is a parsed gitolite.conf.
type conf struct {
	groups map[string][]string // "@g" -> members, in order
	rules  []permLine
	warns  []Warning
}

// The patterns compile at first use, not at start-up: this package is
// linked into the binary sshd starts at every login.
var (
	groupLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(@[0-9A-Za-z][-0-9A-Za-z._]*)\s*=\s*(.*)$`) })
	permRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(-|C|R|RW\+?C?|RW\+?[CDM]+)\s+([^=]*)=\s*(.*)$`) })
)

// parse reads gitolite.conf.
func parse(r io.Reader) (*conf, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxConf+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConf {
		return nil, fmt.Errorf("input is larger than %d MiB", maxConf>>20)
	}
	c := &conf{groups: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxConfLine)
	var repos []string
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		f := strings.Fields(line)
		switch {
		case line == "":
		case groupLine().MatchString(line):
			m := groupLine().FindStringSubmatch(line)
			c.groups[m[1]] = append(c.groups[m[1]], strings.Fields(m[2])...)
		case f[0] == "repo":
			repos = c.expand(f[1:])
		case f[0] == "include" || f[0] == "subconf":
			c.warn(n, "%s is not followed; translate that file too and merge the rules", f[0])
		case f[0] == "option" && strings.Contains(line, "deny-rules"):
			c.warn(n, "option deny-rules has no gitserver equivalent: '-' rules refuse ref updates only, never reads; skipped")
		case f[0] == "config" || f[0] == "option":
			c.warn(n, "%s lines have no gitserver equivalent; skipped: %s", f[0], line)
		case strings.HasPrefix(line, "RW") || strings.HasPrefix(line, "R ") || strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "C "):
			c.permLine(n, line, repos)
		default:
			c.warn(n, "not understood; skipped: %s", line)
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, fmt.Errorf("line %d is longer than %d KiB", n+1, maxConfLine>>10)
	}
	return c, sc.Err()
}

// permLine parses one access line for repos.
func (c *conf) permLine(n int, line string, repos []string) {
	m := permRE().FindStringSubmatch(line)
	if m == nil || len(repos) == 0 {
		c.warn(n, "not an access line under a repo line; skipped: %s", line)
		return
	}
	perm, refs := m[1], strings.Fields(m[2])
	if strings.ContainsAny(strings.TrimPrefix(strings.TrimPrefix(perm, "RW+"), "RW"), "DM") {
		c.warn(n, "permission %s (D or M) has no gitserver equivalent; skipped", perm)
		return
	}
	for _, ref := range refs {
		if strings.HasPrefix(ref, "VREF/") {
			c.warn(n, "VREF rules have no gitserver equivalent; skipped: %s", line)
			return
		}
	}
	c.rules = append(c.rules, permLine{line: n, repos: repos, perm: perm, refs: refs, users: strings.Fields(m[3])})
}

// expand replaces @groups (not @all) by their members, recursively.
func (c *conf) expand(names []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func([]string, int)
	walk = func(ns []string, depth int) {
		for _, n := range ns {
			if m, ok := c.groups[n]; ok && depth < 32 && !seen[n] {
				seen[n] = true
				walk(m, depth+1)
			} else if !ok {
				out = append(out, n)
			}
		}
	}
	walk(names, 0)
	return out
}

func (c *conf) warn(n int, format string, args ...any) {
	c.warns = append(c.warns, Warning{n, fmt.Sprintf(format, args...)})
}
