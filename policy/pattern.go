package policy

import (
	"errors"
	"fmt"
	"strings"
)

// A pattern is a compiled repository pattern: one matcher per /-separated
// segment of the pattern as written, with its ".git" suffix removed.
type pattern struct {
	segs []segment
}

// A segment matches one segment of a name, or, when multi is set (the
// segment "**"), zero or more whole segments.
//
// Otherwise parts are the segment split at each "*": the first part is
// anchored at the start, the last at the end, and the ones between are
// found leftmost in order. A segment without "*" has one part.
type segment struct {
	multi bool
	parts [][]atom
}

// An atom is literal text, or a placeholder: the requesting user's name
// when user is set, the repository's creator when creator is set.
type atom struct {
	lit     string
	user    bool
	creator bool
}

// The placeholders a pattern may hold.
const (
	userVar    = "{user}"
	creatorVar = "{creator}"
)

// vars are the values of the placeholders for one request. An empty
// creator (unknown) makes every atom {creator} fail to match.
type vars struct {
	user    string
	creator string
}

// reserved are characters kept for a later pattern syntax (a regular
// expression form); a pattern holding one is an error today, so giving
// them a meaning later changes no valid policy.
const reserved = `?[]\`

// compilePattern compiles a repository pattern as written in a rule.
func compilePattern(s string) (*pattern, error) {
	return compileGlob(s, true)
}

// literalName returns the one name that the repository pattern s
// matches when s is literal (no "*", no placeholder): s without its
// ".git" suffix, as splitName leaves a name. (TestLiteralName checks it
// against compilePattern's match.)
func literalName(s string) (string, bool) {
	if strings.ContainsAny(s, "*{}") {
		return "", false
	}
	return trimGit(s), true
}

// compileRefPattern compiles a ref pattern as written in a rule: a name
// not starting with "refs/" is a branch, so "main" is "refs/heads/main".
func compileRefPattern(s string) (*pattern, error) {
	return compileGlob(refName(s), false)
}

// refName expands a bare branch name to its full ref name.
func refName(s string) string {
	if strings.HasPrefix(s, "refs/") || s == "" {
		return s
	}
	return "refs/heads/" + s
}

// compileGlob compiles a glob; repo says to drop a ".git" suffix.
func compileGlob(s string, repo bool) (*pattern, error) {
	if err := checkPatternChars(s); err != nil {
		return nil, err
	}
	if strings.HasPrefix(s, "/") {
		return nil, errors.New("leading /")
	}
	body := s
	if repo {
		body = trimGit(s)
	}
	if body == "" {
		return nil, errors.New("empty pattern")
	}
	var p pattern
	for seg := range strings.SplitSeq(body, "/") {
		c, err := compileSegment(seg)
		if err != nil {
			return nil, err
		}
		p.segs = append(p.segs, c)
	}
	return &p, nil
}

// checkPatternChars rejects reserved characters and braces other than
// those of {user} and {creator}.
func checkPatternChars(s string) error {
	if i := strings.IndexAny(s, reserved); i >= 0 {
		return fmt.Errorf("character %q is reserved (for a regular expression use repos_regex or refs_regex)", s[i])
	}
	if strings.ContainsAny(stripVars(s), "{}") {
		return errors.New("braces other than {user} and {creator}")
	}
	return nil
}

// stripVars removes the placeholders from s.
func stripVars(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, userVar, ""), creatorVar, "")
}

// compileSegment compiles one non-empty segment.
func compileSegment(seg string) (segment, error) {
	switch {
	case seg == "":
		return segment{}, errors.New("empty segment")
	case seg == "." || seg == "..":
		return segment{}, fmt.Errorf("segment %q", seg)
	case seg == "**":
		return segment{multi: true}, nil
	case strings.Contains(seg, "**"):
		return segment{}, errors.New("** must be a whole segment")
	}
	var c segment
	for part := range strings.SplitSeq(seg, "*") {
		c.parts = append(c.parts, compileAtoms(part))
	}
	return c, nil
}

// compileAtoms splits text at each {user} and {creator}.
func compileAtoms(s string) []atom {
	var atoms []atom
	for s != "" {
		i := strings.IndexByte(s, '{')
		switch {
		case i < 0:
			return append(atoms, atom{lit: s})
		case i > 0:
			atoms = append(atoms, atom{lit: s[:i]})
			s = s[i:]
		case strings.HasPrefix(s, userVar):
			atoms = append(atoms, atom{user: true})
			s = s[len(userVar):]
		default: // checkPatternChars admits no other brace
			atoms = append(atoms, atom{creator: true})
			s = s[len(creatorVar):]
		}
	}
	return atoms
}

// trimGit removes one ".git" suffix.
func trimGit(s string) string {
	return strings.TrimSuffix(s, ".git")
}

// match reports whether the pattern matches the name split into segments,
// for user. It backtracks only to the last "**" seen, which is enough
// because every other segment matches exactly one name segment.
func (p *pattern) match(name []string, v vars) bool {
	pi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(name) {
		switch {
		case pi < len(p.segs) && p.segs[pi].multi:
			star, mark = pi, ni
			pi++
		case pi < len(p.segs) && p.segs[pi].match(name[ni], v):
			pi++
			ni++
		case star >= 0:
			mark++
			pi, ni = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p.segs) && p.segs[pi].multi {
		pi++
	}
	return pi == len(p.segs)
}

// match reports whether the (non-multi) segment matches s for user.
func (g *segment) match(s string, v vars) bool {
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	pos, ok := matchAt(s, 0, first, v)
	if !ok {
		return false
	}
	if len(g.parts) == 1 {
		return pos == len(s)
	}
	end := len(s) - atomsLen(last, v)
	if end < pos {
		return false
	}
	if _, ok := matchAt(s, end, last, v); !ok {
		return false
	}
	for _, part := range g.parts[1 : len(g.parts)-1] {
		if pos, ok = find(s[:end], pos, part, v); !ok {
			return false
		}
	}
	return true
}

// find returns the end of the leftmost match of atoms in s at or after i.
func find(s string, i int, atoms []atom, v vars) (int, bool) {
	n := atomsLen(atoms, v)
	for ; i+n <= len(s); i++ {
		if end, ok := matchAt(s, i, atoms, v); ok {
			return end, true
		}
	}
	return 0, false
}

// matchAt reports whether atoms match s at offset i, and where they end.
func matchAt(s string, i int, atoms []atom, v vars) (int, bool) {
	for _, a := range atoms {
		t := a.lit
		switch {
		case a.user:
			t = v.user
		case a.creator && v.creator == "":
			return 0, false
		case a.creator:
			t = v.creator
		}
		if !strings.HasPrefix(s[i:], t) {
			return 0, false
		}
		i += len(t)
	}
	return i, true
}

// atomsLen is the length of the text atoms match.
func atomsLen(atoms []atom, v vars) int {
	n := 0
	for _, a := range atoms {
		switch {
		case a.user:
			n += len(v.user)
		case a.creator:
			n += len(v.creator)
		default:
			n += len(a.lit)
		}
	}
	return n
}

// maxSegments is how many segments splitName keeps on the stack; deeper
// names are still matched, at the cost of an allocation.
const maxSegments = 32

// splitName splits a repository name into segments, appending to buf,
// after removing one ".git" suffix. It reports false for a name that is
// not canonical: empty, with a leading or trailing "/", an empty segment,
// or a "." or ".." segment.
func splitName(name string, buf []string) ([]string, bool) {
	return splitPath(trimGit(name), buf)
}

// splitPath splits a /-separated name, as splitName does, but keeps a
// ".git" suffix: refs are split with it.
func splitPath(name string, buf []string) ([]string, bool) {
	if name == "" {
		return nil, false
	}
	for {
		seg, rest, more := strings.Cut(name, "/")
		if seg == "" || seg == "." || seg == ".." {
			return nil, false
		}
		buf = append(buf, seg)
		if !more {
			return buf, true
		}
		name = rest
	}
}
