package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// maxRegexLen bounds a regular expression in a rule, in bytes.
const maxRegexLen = 1024

// A regex is a repos_regex or refs_regex entry: an RE2 expression that
// must match the whole name (it is anchored at both ends whether or not
// it is written with ^ and $). {user} and {creator} in it stand for the
// request's user and the repository's creator, quoted; a regex holding
// one is compiled for each match, one without is compiled once.
type regex struct {
	src string         // as written
	re  *regexp.Regexp // nil when src holds a placeholder
}

// compileRegex checks and compiles one regular expression.
func compileRegex(s string) (*regex, error) {
	if s == "" {
		return nil, fmt.Errorf("empty regular expression")
	}
	if len(s) > maxRegexLen {
		return nil, fmt.Errorf("regular expression longer than %d bytes", maxRegexLen)
	}
	// Check the expression with the placeholders filled in, so that an
	// error is found now rather than at the first request.
	re, err := regexp.Compile(anchor(expand(s, vars{user: "u", creator: "c"})))
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %v", s, err)
	}
	r := &regex{src: s}
	if !hasVars(s) {
		r.re = re
	}
	return r, nil
}

// hasVars reports whether s holds {user} or {creator}.
func hasVars(s string) bool {
	return strings.Contains(s, userVar) || strings.Contains(s, creatorVar)
}

// anchor makes s match only whole names.
func anchor(s string) string { return `^(?:` + s + `)$` }

// expand puts the quoted values of v in place of the placeholders.
func expand(s string, v vars) string {
	s = strings.ReplaceAll(s, userVar, regexp.QuoteMeta(v.user))
	return strings.ReplaceAll(s, creatorVar, regexp.QuoteMeta(v.creator))
}

// match reports whether the regex matches name for v. A regex naming
// {creator} matches nothing while the creator is unknown.
func (r *regex) match(name string, v vars) bool {
	if r.re != nil {
		return r.re.MatchString(name)
	}
	if v.creator == "" && strings.Contains(r.src, creatorVar) {
		return false
	}
	re, err := regexp.Compile(anchor(expand(r.src, v)))
	return err == nil && re.MatchString(name)
}
