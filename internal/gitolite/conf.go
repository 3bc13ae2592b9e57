// Package gitolite translates a gitolite setup into gitserver's: the
// rules of gitolite.conf into policy.toml text (Translate), the roles of
// its rc file (RolesFromRC) and the user names of a keydir
// (UserFromKeyFile). It is pure: it reads what it is given and touches
// no file.
//
// # Security
//
// The translated policy decides as gitolite does: decide = "first-grant"
// (a rule that matches but does not grant what is asked is passed over;
// the first grant allows, the first matching "-" denies), its rules in
// the order of gitolite.conf. A "-" always names refs (every ref without
// a refex), so it refuses pushes only, unless the repository has option
// deny-rules, which becomes an [[option]] with deny_rules. RWC and RWD
// become allow lists with create-ref and delete-ref, and an [[option]]
// making those rights explicit for the repo line's repositories, as
// gitolite's CREATE_IS_C and DELETE_IS_D; C becomes allow
// ["create-repo"]; roles (the rc's ROLES) become role:NAME. Tags need
// no translation: like gitolite, gitserver treats any change to an
// existing tag as a rewind. Every line it cannot translate (VREFs,
// include, subconf, config, other options, M) is reported, never
// dropped silently.
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

	"github.com/gitserver/gitserver/internal/bounded"
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
	block int      // index of its repo line in conf.blocks
	repos []string // names, @groups and regexes as written
	perm  string   // R, RW, RW+, -, C, RWC, RW+C, RWD, RW+CD...
	refs  []string // refexes as written
	users []string
}

// block is one repo line and what its lines set for its repositories:
// gitolite's options (CREATE_IS_C and DELETE_IS_D, which a RW.*C or a D
// permission sets, and deny-rules).
type block struct {
	line      int
	repos     []string
	createIsC bool
	deleteIsD bool
	denyRules bool
}

// conf is a parsed gitolite.conf.
type conf struct {
	groups map[string][]string // "@g" -> members, in order
	order  []string            // group names in the order first defined
	blocks []block
	rules  []permLine
	roles  map[string]bool // role names (gitolite's rc ROLES)
	head   []byte          // the policy's roles and [groups], as written
	warns  []Warning
}

// The patterns compile at first use, not at start-up: this package is
// linked into the binary sshd starts at every login.
var (
	groupLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(@[0-9A-Za-z][-0-9A-Za-z._]*)\s*=\s*(.*)$`) })
	permRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(-|C|R|RW\+?(?:C?D?|D?C?)M?)\s+([^=]*)=\s*(.*)$`) })
	optionRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^option\s+([^\s=]+)\s*=\s*(.*)$`) })
)

// parse reads gitolite.conf; roles are the role names gitolite's rc
// declares.
func parse(r io.Reader, roles []string) (*conf, error) {
	data, err := bounded.ReadAll(r, maxConf, "input")
	if err != nil {
		return nil, err
	}
	c := &conf{groups: map[string][]string{}, roles: map[string]bool{}}
	for _, r := range roles {
		c.roles[r] = true
	}
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
			if _, ok := c.groups[m[1]]; !ok {
				c.order = append(c.order, m[1])
			}
			c.groups[m[1]] = append(c.groups[m[1]], strings.Fields(m[2])...)
		case f[0] == "repo":
			// Groups expand at translation, when every definition is
			// known: gitolite resolves them when it decides, so a
			// group defined after its use counts.
			repos = f[1:]
			c.blocks = append(c.blocks, block{line: n, repos: repos})
		case f[0] == "include" || f[0] == "subconf":
			c.warn(n, "%s is not followed; translate that file too and merge the rules", f[0])
		case f[0] == "option":
			c.option(n, line)
		case f[0] == "config":
			c.warn(n, "config lines have no gitserver equivalent; skipped: %s", line)
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

// option handles an "option NAME = VALUE" line of the current repo line.
func (c *conf) option(n int, line string) {
	m := optionRE().FindStringSubmatch(line)
	if m == nil || len(c.blocks) == 0 {
		c.warn(n, "not an option line under a repo line; skipped: %s", line)
		return
	}
	if m[1] != "deny-rules" {
		c.warn(n, "option %s has no gitserver equivalent; skipped", m[1])
		return
	}
	switch strings.TrimSpace(m[2]) {
	case "1":
		c.blocks[len(c.blocks)-1].denyRules = true
	case "0":
		c.warn(n, "option deny-rules = 0 is the default; it does not undo a 1 set for these repositories elsewhere")
	default:
		c.warn(n, "option deny-rules = %s: want 1 or 0; skipped", m[2])
	}
}

// permLine parses one access line for repos.
func (c *conf) permLine(n int, line string, repos []string) {
	m := permRE().FindStringSubmatch(line)
	if m == nil || len(c.blocks) == 0 {
		c.warn(n, "not an access line under a repo line; skipped: %s", line)
		return
	}
	perm, refs := m[1], strings.Fields(m[2])
	for _, ref := range refs {
		if strings.HasPrefix(ref, "VREF/") {
			c.warn(n, "VREF rules have no gitserver equivalent; skipped: %s", line)
			return
		}
	}
	if strings.HasSuffix(perm, "M") {
		c.warn(n, "M (merge check) has no gitserver equivalent: translated as %s, merges are not checked", strings.TrimSuffix(perm, "M"))
		perm = strings.TrimSuffix(perm, "M")
	}
	// As gitolite's rw_cdm: a RW.*C or D permission anywhere under a
	// repo line makes ref creation or deletion its own right there.
	b := &c.blocks[len(c.blocks)-1]
	b.createIsC = b.createIsC || strings.HasPrefix(perm, "RW") && strings.Contains(perm, "C")
	b.deleteIsD = b.deleteIsD || strings.Contains(perm, "D")
	c.rules = append(c.rules, permLine{line: n, block: len(c.blocks) - 1, repos: repos, perm: perm, refs: refs, users: strings.Fields(m[3])})
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
