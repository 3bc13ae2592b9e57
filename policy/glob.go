package policy

import (
	"errors"
	"strings"
)

// Glob is a repository pattern compiled on its own, for tools that filter
// names the way rules match them (e.g. "info team/*"). It has the syntax
// of a rule's repos entry without the placeholders.
type Glob struct {
	p *pattern
}

// CompileGlob compiles s, a repository pattern such as "team/**". The
// placeholders {user} and {creator} are refused: a Glob has no request
// to fill them from.
func CompileGlob(s string) (*Glob, error) {
	if strings.Contains(s, "{") || strings.Contains(s, "}") {
		return nil, errors.New("policy: placeholders are not allowed in a glob")
	}
	p, err := compilePattern(s)
	if err != nil {
		return nil, err
	}
	return &Glob{p}, nil
}

// Match reports whether the canonical repository name (with or without
// ".git") matches g. A name that is not canonical matches nothing.
func (g *Glob) Match(name string) bool {
	var buf [maxSegments]string
	parts, ok := splitName(name, buf[:0])
	return ok && g.p.match(parts, vars{})
}
