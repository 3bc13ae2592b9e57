package gitolite

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// Result is a translated gitolite.conf.
type Result struct {
	Policy   string    // policy.toml text; policy.Parse accepts it
	Warnings []Warning // lines not translated, or not exactly
}

// Options are what Translate needs besides gitolite.conf.
type Options struct {
	// Roles are the role names of gitolite's rc file (its ROLES); nil
	// means gitolite's default, READERS and WRITERS.
	Roles []string
}

// DefaultRoles are the roles of gitolite's default rc file.
var DefaultRoles = []string{"READERS", "WRITERS"}

// rule is one gitserver rule, from the gitolite line Line.
type rule struct {
	line       int
	src        string
	repos      []string
	reposRegex []string
	users      []string
	refsRegex  []string
	level      string   // access, or "" for none written
	allow      []string // rights named one by one
}

// opt is one gitserver [[option]], from a gitolite repo line.
type opt struct {
	line       int
	src        string
	repos      []string
	reposRegex []string
	explicit   []string
	denyRules  bool
}

// plainName is gitolite's REPONAME_PATT: anything else is a regex.
var plainName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-zA-Z][-0-9a-zA-Z._@/+]*$`) })

// Translate reads gitolite.conf from r and returns the policy. The policy
// decides as gitolite does (decide = "first-grant"), with its rules in
// the order of gitolite.conf; see the package documentation.
func Translate(r io.Reader, o Options) (*Result, error) {
	roles := o.Roles
	if roles == nil {
		roles = DefaultRoles
	}
	c, err := parse(r, roles)
	if err != nil {
		return nil, fmt.Errorf("gitolite: %w", err)
	}
	var b bytes.Buffer
	b.WriteString("# Translated from gitolite.conf by 'gitserver import gitolite'.\n")
	b.WriteString("# As in gitolite, a rule that does not grant what is asked is passed\n")
	b.WriteString("# over; see the README, \"Importing from gitolite\".\n")
	b.WriteString("decide = \"first-grant\"\n")
	var head bytes.Buffer
	writeList(&head, "roles", roles)
	c.writeGroups(&head)
	c.head = head.Bytes()
	b.Write(c.head)
	for _, p := range c.rules {
		for _, r := range c.translate(p) {
			if err := c.checkRule(r); err != nil {
				c.warn(p.line, "cannot translate (%v); skipped", err)
				continue
			}
			writeRule(&b, r)
		}
	}
	for _, bl := range c.blocks {
		o, ok := c.blockOption(bl)
		if !ok {
			continue
		}
		writeOption(&b, o)
	}
	if _, err := policy.Parse("translated", bytes.NewReader(b.Bytes())); err != nil {
		return nil, fmt.Errorf("gitolite: the translated policy does not parse (a bug): %w", err)
	}
	slices.SortStableFunc(c.warns, func(a, b Warning) int { return a.Line - b.Line })
	return &Result{Policy: b.String(), Warnings: c.warns}, nil
}

// writeGroups writes the user groups: those whose members, expanded, are
// all valid user names, so that a role member "@group" means what it
// meant to gitolite. Repo groups are expanded where they are used.
func (c *conf) writeGroups(b *bytes.Buffer) {
	var lines []string
	for _, g := range c.order {
		members := c.expand([]string{g})
		if len(members) == 0 || !c.namedGroup(g) {
			continue
		}
		q := make([]string, len(members))
		for i, m := range members {
			q[i] = tomlString(m)
		}
		lines = append(lines, fmt.Sprintf("%s = [%s]\n", tomlKey(g[1:]), strings.Join(q, ", ")))
	}
	if len(lines) == 0 {
		return
	}
	b.WriteString("\n[groups]\n")
	for _, l := range lines {
		b.WriteString(l)
	}
}

// namedGroup reports whether gitolite's group g ("@name") becomes a
// gitserver group, written in [groups] and named in users: its members,
// expanded, are all valid user names, and its name is a gitserver
// group name. Other groups are expanded where they are used.
func (c *conf) namedGroup(g string) bool {
	if !policy.ValidGroup(g[1:]) {
		return false
	}
	for _, m := range c.expand([]string{g}) {
		if keys.ValidUsername(m) != nil || m[0] == '@' {
			return false
		}
	}
	return true
}

// translate turns one access line into a gitserver rule.
func (c *conf) translate(p permLine) []rule {
	r := rule{line: p.line, src: p.perm + " " + strings.Join(p.refs, " ") + " = " + strings.Join(p.users, " ")}
	r.src = strings.Join(strings.Fields(r.src), " ")
	r.repos, r.reposRegex = c.repoPatterns(c.expand(p.repos), p.line)
	if len(r.repos)+len(r.reposRegex) == 0 {
		return nil
	}
	r.users = c.users(p)
	if len(r.users) == 0 {
		return nil
	}
	switch p.perm {
	case "-":
		// A "-" refuses only the refs it names (every ref without a
		// refex), unless the repository's deny-rules option is set.
		r.level, r.refsRegex = "none", refsRegex(p.refs)
		return []rule{r}
	case "C":
		r.allow = []string{"create-repo"}
		return []rule{r}
	case "R":
		// Reads are decided for the whole repository, where refexes do
		// not count; kept for 'gitserver access read --ref'.
		r.level = "read"
		if len(p.refs) > 0 {
			r.refsRegex = refsRegex(p.refs)
		}
		return []rule{r}
	}
	r.level = "write"
	if strings.Contains(p.perm, "+") {
		r.level = "force"
	}
	if strings.Contains(p.perm, "C") {
		r.allow = append(r.allow, "create-ref")
	}
	if strings.Contains(p.perm, "D") {
		r.allow = append(r.allow, "delete-ref")
	}
	if len(p.refs) > 0 {
		r.refsRegex = refsRegex(p.refs)
	}
	return []rule{r}
}

// repoPatterns translates a repo line's names: @all as "**", CREATOR as
// {creator}, gitolite's regexes as repos_regex.
func (c *conf) repoPatterns(names []string, line int) (repos, regexes []string) {
	for _, name := range names {
		name = strings.ReplaceAll(name, "CREATOR", "{creator}")
		switch {
		case name == "@all":
			repos = append(repos, "**")
		case plainName().MatchString(strings.ReplaceAll(name, "{creator}", "CREATOR")):
			repos = append(repos, name)
		case strings.HasPrefix(name, "@"):
			c.warn(line, "repo group %s is not defined; no repositories", name)
		default:
			regexes = append(regexes, name)
		}
	}
	return repos, regexes
}

// blockOption is the [[option]] a repo line's permissions and options call
// for, if any.
func (c *conf) blockOption(bl block) (opt, bool) {
	o := opt{line: bl.line, src: "repo " + strings.Join(bl.repos, " "), denyRules: bl.denyRules}
	if bl.createIsC {
		o.explicit = append(o.explicit, "create-ref")
	}
	if bl.deleteIsD {
		o.explicit = append(o.explicit, "delete-ref")
	}
	if len(o.explicit) == 0 && !o.denyRules {
		return opt{}, false
	}
	o.repos, o.reposRegex = c.repoPatterns(c.expand(bl.repos), bl.line)
	return o, len(o.repos)+len(o.reposRegex) > 0
}

// users translates a users list: user groups by name (they are in
// [groups]), others expanded, CREATOR as {creator}, roles as role:NAME.
func (c *conf) users(p permLine) []string {
	var out []string
	for _, u := range p.users {
		switch {
		case u == "@all":
			out = append(out, "@all")
		case u == "CREATOR":
			out = append(out, "{creator}")
		case c.roles[u]:
			out = append(out, "role:"+u)
		case strings.HasPrefix(u, "@"):
			if _, ok := c.groups[u]; !ok {
				c.warn(p.line, "user group %s is not defined; it has no members", u)
				continue
			}
			if c.namedGroup(u) {
				out = append(out, u)
				continue
			}
			for _, m := range c.expand([]string{u}) {
				out = c.addUser(out, m, p.line)
			}
		default:
			out = c.addUser(out, u, p.line)
		}
	}
	return slices.Compact(out)
}

func (c *conf) addUser(out []string, u string, line int) []string {
	if keys.ValidUsername(u) != nil || u[0] == '@' {
		c.warn(line, "user name %q is not valid in gitserver; skipped", u)
		return out
	}
	return append(out, u)
}

// refsRegex turns gitolite refexes (prefix-matched regexes, refs/heads/
// implied, the first /USER/ the user's name) into gitserver refs_regex
// entries (whole-name matches). No refex means every ref.
func refsRegex(refexes []string) []string {
	if len(refexes) == 0 {
		return []string{"refs/.*"}
	}
	out := make([]string, len(refexes))
	for i, x := range refexes {
		if !strings.HasPrefix(x, "refs/") {
			x = "refs/heads/" + x
		}
		// gitolite puts the user's name for the first "/USER/" of a
		// refex (personal branches); {user} is the quoted name.
		x = strings.Replace(x, "/USER/", "/{user}/", 1)
		out[i] = "(?:" + x + ").*"
	}
	return out
}

// checkRule parses r alone, with the roles and groups of the policy, so
// that a name or regex gitserver refuses is reported on its line rather
// than failing the whole policy.
func (c *conf) checkRule(r rule) error {
	var b bytes.Buffer
	b.Write(c.head)
	writeRule(&b, r)
	_, err := policy.Parse("rule", &b)
	return err
}
