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

// rule is one gitserver rule, from the gitolite line Line.
type rule struct {
	line       int
	src        string
	repos      []string
	reposRegex []string
	users      []string
	refsRegex  []string
	access     policy.Access
}

// plainName is gitolite's REPONAME_PATT: anything else is a regex.
var plainName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-zA-Z][-0-9a-zA-Z._@/+]*$`) })

// Translate reads gitolite.conf from r and returns the policy.
func Translate(r io.Reader) (*Result, error) {
	c, err := parse(r)
	if err != nil {
		return nil, fmt.Errorf("gitolite: %w", err)
	}
	var rules []rule
	for _, p := range c.rules {
		for _, r := range c.translate(p) {
			if err := checkRule(r); err != nil {
				c.warn(p.line, "cannot translate (%v); skipped", err)
				continue
			}
			rules = append(rules, r)
		}
	}
	c.checkRewinds(rules)
	var b bytes.Buffer
	b.WriteString("# Translated from gitolite.conf by 'gitserver import gitolite'.\n")
	b.WriteString("# Order: within each stretch between \"none\" rules, higher levels first;\n")
	b.WriteString("# read-only rules last. See the README, \"Importing from gitolite\".\n")
	for _, r := range order(rules) {
		writeRule(&b, r)
	}
	if _, err := policy.Parse("translated", bytes.NewReader(b.Bytes())); err != nil {
		return nil, fmt.Errorf("gitolite: the translated policy does not parse (a bug): %w", err)
	}
	slices.SortStableFunc(c.warns, func(a, b Warning) int { return a.Line - b.Line })
	return &Result{Policy: b.String(), Warnings: c.warns}, nil
}

// translate turns one access line into gitserver rules.
func (c *conf) translate(p permLine) []rule {
	base := rule{line: p.line, src: p.perm + " " + strings.Join(p.refs, " ") + " = " + strings.Join(p.users, " ")}
	for _, name := range p.repos {
		name = strings.ReplaceAll(name, "CREATOR", "{creator}")
		switch {
		case name == "@all":
			base.repos = append(base.repos, "**")
		case plainName().MatchString(name):
			base.repos = append(base.repos, name)
		case strings.HasPrefix(name, "@"):
			c.warn(p.line, "repo group %s is not defined; no repositories", name)
		default:
			base.reposRegex = append(base.reposRegex, name)
		}
	}
	if len(base.repos)+len(base.reposRegex) == 0 {
		return nil
	}
	users := c.users(p)
	var out []rule
	grant := strings.TrimSuffix(p.perm, "C")
	if grant != "" && len(users) > 0 {
		r := base
		r.users = users
		r.access = map[string]policy.Access{"R": policy.Read, "RW": policy.Write, "RW+": policy.Force, "-": policy.None}[grant]
		if r.access == policy.None || r.access > policy.Read && len(p.refs) > 0 {
			r.refsRegex = refsRegex(p.refs)
		}
		out = append(out, r)
	}
	if strings.HasSuffix(p.perm, "C") {
		if !slices.Equal(p.users, []string{"@all"}) {
			c.warn(p.line, "C for %s: gitserver lets any user create here (users = [\"{creator}\"]); restrict the repos pattern, e.g. with {user}", strings.Join(p.users, " "))
		}
		c.warn(p.line, "C: gitserver's create level also gives the creator read, write and force on the repositories they create")
		r := base
		r.users, r.access = []string{"{creator}"}, policy.Create
		out = append(out, r)
	}
	return out
}

// users translates a users list: groups expanded, CREATOR as {creator}.
func (c *conf) users(p permLine) []string {
	var out []string
	for _, u := range p.users {
		switch {
		case u == "@all":
			out = append(out, "@all")
		case u == "CREATOR":
			out = append(out, "{creator}")
		case u == "READERS" || u == "WRITERS":
			c.warn(p.line, "role %s (set with perms) has no gitserver equivalent; skipped", u)
		case strings.HasPrefix(u, "@"):
			if _, ok := c.groups[u]; !ok {
				c.warn(p.line, "user group %s is not defined; it has no members", u)
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

// checkRule parses r alone, so that a name or regex gitserver refuses
// is reported on its line rather than failing the whole policy.
func checkRule(r rule) error {
	var b bytes.Buffer
	writeRule(&b, r)
	_, err := policy.Parse("rule", &b)
	return err
}
