package gitolite

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gitserver/gitserver/policy"
)

// order puts rules in the order that makes gitserver's first match give
// gitolite's answers: read-only rules go last (gitolite skips them for
// pushes, and any grant answers a read), and within each stretch between
// "none" rules the higher levels come first (gitolite looks for any grant
// of what is wanted in such a stretch). "none" rules keep their place.
func order(rules []rule) []rule {
	var out, reads, run []rule
	flush := func() {
		slices.SortStableFunc(run, func(a, b rule) int { return int(b.access) - int(a.access) })
		out = append(out, run...)
		run = run[:0]
	}
	for _, r := range rules {
		switch r.access {
		case policy.Read:
			reads = append(reads, r)
		case policy.None:
			flush()
			out = append(out, r)
		default:
			run = append(run, r)
		}
	}
	flush()
	return append(out, reads...)
}

// checkRewinds warns where gitserver may refuse a rewind or delete that
// gitolite allows: for a repository, a write-only (RW) rule, then a "-",
// then a force rule. gitolite skips the RW rule when looking for "+";
// gitserver's first match stops at it. Rules are compared by the repos
// they name as written (expanded groups), which finds the usual cases.
func (c *conf) checkRewinds(rules []rule) {
	for i, w := range rules {
		if w.access != policy.Write {
			continue
		}
		denied := false
		for _, r := range rules[i+1:] {
			if !shareRepo(w, r) {
				continue
			}
			if r.access == policy.None {
				denied = true
			} else if r.access >= policy.Force && denied {
				c.warn(w.line, "RW here comes before a \"-\" and an RW+ (line %d) for the same repository: rewinds and deletes that the RW+ allows may be refused; check with 'gitserver access --ref'", r.line)
				break
			}
		}
	}
}

// shareRepo reports whether a and b name a repository or regex in common.
func shareRepo(a, b rule) bool {
	for _, x := range a.repos {
		if slices.Contains(b.repos, x) {
			return true
		}
	}
	for _, x := range a.reposRegex {
		if slices.Contains(b.reposRegex, x) {
			return true
		}
	}
	return false
}

// writeRule writes r as a [[rule]] table.
func writeRule(b *bytes.Buffer, r rule) {
	fmt.Fprintf(b, "\n# gitolite.conf:%d: %s\n[[rule]]\n", r.line, r.src)
	writeList(b, "repos", r.repos)
	writeList(b, "repos_regex", r.reposRegex)
	writeList(b, "users", r.users)
	writeList(b, "refs_regex", r.refsRegex)
	fmt.Fprintf(b, "access = %q\n", r.access)
}

func writeList(b *bytes.Buffer, key string, list []string) {
	if len(list) == 0 {
		return
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = tomlString(s)
	}
	fmt.Fprintf(b, "%s = [%s]\n", key, strings.Join(q, ", "))
}

// tomlString quotes s as a TOML literal string when it can (regexes keep
// their backslashes as written), else as a basic string.
func tomlString(s string) string {
	if !strings.ContainsAny(s, "'\n\r") {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}
