package policy

import (
	"bytes"
	"errors"
	"slices"

	"github.com/pelletier/go-toml/v2/unstable"
)

// An Outline lists the [[rule]] tables of a policy document whose repos
// are all literal names, with those names: what Cut needs to cut the
// document down to the rules that can decide about one repository. A
// process that serves one request (sshd's forced command, a hook) can
// then parse a few rules of a big policy rather than all of them, once
// the whole document is known to parse: see Cut.
type Outline struct {
	Rules []Span
}

// A Span is one [[rule]] table of a document: data[Start:End], whole
// lines from its header up to the next header, and Names, the
// repositories its repos patterns match (each without its ".git"
// suffix). Only rules without repos_regex whose every repos pattern is
// literal (no "*", no placeholder) have a Span.
type Span struct {
	Start, End int
	Names      []string
}

// OutlineOf outlines data, a policy document that Parse accepts (on
// another document it may return an error or an outline that is of no
// use). Rules written as inline tables (rule = [{...}]) are not
// outlined: their document cuts to itself.
func OutlineOf(data []byte) (Outline, error) {
	var o Outline
	var p unstable.Parser
	p.Reset(data)
	var cur *Span   // the [[rule]] being read, nil outside one
	literal := true // cur's repos so far are all literal
	end := func(at int) {
		if cur != nil && literal && len(cur.Names) > 0 {
			cur.End = at
			o.Rules = append(o.Rules, *cur)
		}
		cur = nil
	}
	for p.NextExpression() {
		e := p.Expression()
		key, off := exprKey(e)
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			start := lineStart(data, off)
			end(start)
			if e.Kind == unstable.ArrayTable && slices.Equal(key, []string{"rule"}) {
				cur, literal = &Span{Start: start}, true
			}
		case unstable.KeyValue:
			switch {
			case cur == nil && len(key) > 0 && key[0] == "rule":
				return Outline{}, nil // inline rules: nothing to cut
			case cur == nil:
			case slices.Equal(key, []string{"repos"}):
				names, ok := literalNames(e.Value())
				cur.Names = append(cur.Names, names...)
				literal = literal && ok
			case slices.Equal(key, []string{"repos_regex"}):
				literal = false
			}
		}
	}
	if err := p.Error(); err != nil {
		return Outline{}, err
	}
	end(len(data))
	return o, nil
}

// exprKey returns the key of a header or key-value expression and the
// offset where it starts.
func exprKey(e *unstable.Node) ([]string, int) {
	var key []string
	off := -1
	it := e.Key()
	for it.Next() {
		k := it.Node()
		if off < 0 {
			off = int(k.Raw.Offset)
		}
		key = append(key, string(k.Data))
	}
	return key, off
}

// lineStart returns the offset of the start of the line holding off.
func lineStart(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.LastIndexByte(data[:off], '\n') + 1
}

// literalNames returns the names that an array of literal repo patterns
// matches, and false if the value is anything else.
func literalNames(v *unstable.Node) ([]string, bool) {
	if v.Kind != unstable.Array {
		return nil, false
	}
	var names []string
	it := v.Children()
	for it.Next() {
		n := it.Node()
		if n.Kind != unstable.String {
			return nil, false
		}
		name, ok := literalName(string(n.Data))
		if !ok {
			return nil, false
		}
		names = append(names, name)
	}
	return names, true
}

// Cut returns data, the document o outlines, with every outlined rule
// that cannot match repo (a canonical name, with or without ".git")
// replaced by the newlines it held, so that the rules left keep their
// lines. Every rule Cut drops names repositories only literally, and
// none of them repo, so for any Request about repo, Parse of the cut
// document decides as Parse of data does, with the same rule at the same
// line. Other questions (IsAdmin, the repositories a user may see) need
// the whole document. Cut does not check that data parses: a document
// that does not must be refused whole, never cut.
func (o Outline) Cut(data []byte, repo string) ([]byte, error) {
	name := trimGit(repo)
	out := make([]byte, 0, len(data))
	last := 0
	for _, s := range o.Rules {
		if s.Start < last || s.End < s.Start || s.End > len(data) {
			return nil, errors.New("policy: outline does not fit the document")
		}
		if slices.Contains(s.Names, name) {
			continue
		}
		out = append(out, data[last:s.Start]...)
		for range bytes.Count(data[s.Start:s.End], []byte{'\n'}) {
			out = append(out, '\n')
		}
		last = s.End
	}
	return append(out, data[last:]...), nil
}
