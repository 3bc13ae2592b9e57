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

// An atom is literal text, or the requesting user's name when user is set.
type atom struct {
	lit  string
	user bool
}

// userVar is the one placeholder a pattern may hold.
const userVar = "{user}"

// reserved are characters kept for a later pattern syntax (a regular
// expression form); a pattern holding one is an error today, so giving
// them a meaning later changes no valid policy.
const reserved = `?[]\`

// compilePattern compiles a repository pattern as written in a rule.
func compilePattern(s string) (*pattern, error) {
	if err := checkPatternChars(s); err != nil {
		return nil, err
	}
	if strings.HasPrefix(s, "/") {
		return nil, errors.New("leading /")
	}
	body := trimGit(s)
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
// those of {user}.
func checkPatternChars(s string) error {
	if i := strings.IndexAny(s, reserved); i >= 0 {
		return fmt.Errorf("character %q is reserved", s[i])
	}
	if strings.ContainsAny(strings.ReplaceAll(s, userVar, ""), "{}") {
		return errors.New("braces other than {user}")
	}
	return nil
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

// compileAtoms splits text at each {user}.
func compileAtoms(s string) []atom {
	var atoms []atom
	for {
		before, after, found := strings.Cut(s, userVar)
		if before != "" {
			atoms = append(atoms, atom{lit: before})
		}
		if !found {
			return atoms
		}
		atoms = append(atoms, atom{user: true})
		s = after
	}
}

// trimGit removes one ".git" suffix.
func trimGit(s string) string {
	return strings.TrimSuffix(s, ".git")
}

// match reports whether the pattern matches the name split into segments,
// for user. It backtracks only to the last "**" seen, which is enough
// because every other segment matches exactly one name segment.
func (p *pattern) match(name []string, user string) bool {
	pi, ni := 0, 0
	star, mark := -1, 0
	for ni < len(name) {
		switch {
		case pi < len(p.segs) && p.segs[pi].multi:
			star, mark = pi, ni
			pi++
		case pi < len(p.segs) && p.segs[pi].match(name[ni], user):
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
func (g *segment) match(s, user string) bool {
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	pos, ok := matchAt(s, 0, first, user)
	if !ok {
		return false
	}
	if len(g.parts) == 1 {
		return pos == len(s)
	}
	end := len(s) - atomsLen(last, user)
	if end < pos {
		return false
	}
	if _, ok := matchAt(s, end, last, user); !ok {
		return false
	}
	for _, part := range g.parts[1 : len(g.parts)-1] {
		if pos, ok = find(s[:end], pos, part, user); !ok {
			return false
		}
	}
	return true
}

// find returns the end of the leftmost match of atoms in s at or after i.
func find(s string, i int, atoms []atom, user string) (int, bool) {
	n := atomsLen(atoms, user)
	for ; i+n <= len(s); i++ {
		if end, ok := matchAt(s, i, atoms, user); ok {
			return end, true
		}
	}
	return 0, false
}

// matchAt reports whether atoms match s at offset i, and where they end.
func matchAt(s string, i int, atoms []atom, user string) (int, bool) {
	for _, a := range atoms {
		t := a.lit
		if a.user {
			t = user
		}
		if !strings.HasPrefix(s[i:], t) {
			return 0, false
		}
		i += len(t)
	}
	return i, true
}

// atomsLen is the length of the text atoms match.
func atomsLen(atoms []atom, user string) int {
	n := 0
	for _, a := range atoms {
		if a.user {
			n += len(user)
		} else {
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
	name = trimGit(name)
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
