package policy

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// index records where things are in a policy file: the line of each rule
// (its [[rule]] header, or the "{" of an inline rule) and of each group's
// entry in [groups]. It is built from the document after it decoded, so
// every error it meets is one the decoder let through.
type index struct {
	file     string
	rules    []int
	options  []int
	webhooks []int
	groups   map[string]int
	keys     map[string]int // top-level key -> its line
}

// errorAt formats an error about line of file; line 0 means the whole file.
func errorAt(file string, line int, format string, args ...any) error {
	if line <= 0 {
		return fmt.Errorf("policy: %s: "+format, append([]any{file}, args...)...)
	}
	return fmt.Errorf("policy: %s:%d: "+format, append([]any{file, line}, args...)...)
}

// ruleLine is the line of the i'th rule, or 0 if unknown.
func (ix *index) ruleLine(i int) int {
	if i < len(ix.rules) {
		return ix.rules[i]
	}
	return 0
}

// webhookLine is the line of the i'th webhook, or 0 if unknown.
func (ix *index) webhookLine(i int) int {
	if i < len(ix.webhooks) {
		return ix.webhooks[i]
	}
	return 0
}

// optionLine is the line of the i'th option, or 0 if unknown.
func (ix *index) optionLine(i int) int {
	if i < len(ix.options) {
		return ix.options[i]
	}
	return 0
}

// groupErr formats an error at the line of group g's entry.
func (ix *index) groupErr(g string, format string, args ...any) error {
	return errorAt(ix.file, ix.groups[g], format, args...)
}

// groupOrder returns the names of groups in the order of the file.
func (ix *index) groupOrder(groups map[string][]string) []string {
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(ix.groups[a], ix.groups[b]), strings.Compare(a, b))
	})
	return names
}

// buildIndex walks data, which must be a policy that decoded, recording
// lines. It also rejects keys that the decoder matched case-insensitively
// ("Access", "[[Rule]]"): names in a policy are exact.
func buildIndex(file string, data []byte) (*index, error) {
	ix := &index{file: file, groups: make(map[string]int), keys: make(map[string]int)}
	w := walker{ix: ix, lines: lineCounter{data: data}}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		var err error
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, err = w.header(e)
		case unstable.KeyValue:
			err = w.keyValue(table, e)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.Error(); err != nil {
		return nil, errorAt(file, 0, "%v", err)
	}
	return ix, nil
}

// walker carries the state of buildIndex.
type walker struct {
	ix    *index
	lines lineCounter
}

// header handles a [table] or [[array table]] header and returns its key.
func (w *walker) header(e *unstable.Node) ([]string, error) {
	path, line := w.key(nil, e)
	if err := w.checkPath(path, line); err != nil {
		return nil, err
	}
	if e.Kind == unstable.ArrayTable && len(path) == 1 {
		w.ix.addTable(path[0], line)
	}
	return path, nil
}

// keyValue handles a key = value under table, descending into inline
// tables and arrays of them.
func (w *walker) keyValue(table []string, kv *unstable.Node) error {
	path, line := w.key(table, kv)
	if err := w.checkPath(path, line); err != nil {
		return err
	}
	if len(path) == 2 && path[0] == "groups" {
		w.ix.groups[path[1]] = line
	}
	if len(path) == 1 {
		w.ix.keys[path[0]] = line
	}
	v := kv.Value()
	switch v.Kind {
	case unstable.InlineTable:
		return w.inlineTable(path, v)
	case unstable.Array:
		it := v.Children()
		for it.Next() {
			elem := it.Node()
			if elem.Kind != unstable.InlineTable {
				continue
			}
			if len(path) == 1 {
				w.ix.addTable(path[0], w.lines.at(elem.Raw.Offset))
			}
			if err := w.inlineTable(path, elem); err != nil {
				return err
			}
		}
	}
	return nil
}

// inlineTable handles the key = value pairs of an inline table at path.
func (w *walker) inlineTable(path []string, t *unstable.Node) error {
	it := t.Children()
	for it.Next() {
		if kv := it.Node(); kv.Kind == unstable.KeyValue {
			if err := w.keyValue(path, kv); err != nil {
				return err
			}
		}
	}
	return nil
}

// key returns the full key of a header or key-value node under table, and
// the line where it starts.
func (w *walker) key(table []string, n *unstable.Node) ([]string, int) {
	path := slices.Clip(table)
	line := 0
	it := n.Key()
	for it.Next() {
		k := it.Node()
		if line == 0 {
			line = w.lines.at(k.Raw.Offset)
		}
		path = append(path, string(k.Data))
	}
	return path, line
}

// addTable records the line of one [[rule]] or [[option]].
func (ix *index) addTable(name string, line int) {
	switch name {
	case "rule":
		ix.rules = append(ix.rules, line)
	case "option":
		ix.options = append(ix.options, line)
	case "webhook":
		ix.webhooks = append(ix.webhooks, line)
	}
}

// fields are the keys of each table that has fixed ones; a top-level
// key not here is unknown.
var fields = map[string][]string{
	"rule":    {"repos", "repos_regex", "users", "refs", "refs_regex", "access", "allow"},
	"option":  {"repos", "repos_regex", "explicit_rights", "deny_rules"},
	"webhook": {"url", "secret_file", "events", "repos", "refs", "timeout", "format", "allow_private"},
	"groups":  nil, // any group name
	"decide":  nil,
	"roles":   nil,
}

// checkPath rejects a key path that the decoder would have rejected if it
// compared names exactly.
func (w *walker) checkPath(path []string, line int) error {
	ok := false
	if len(path) > 0 {
		var known []string
		known, ok = fields[path[0]]
		if ok && len(path) > 1 && known != nil {
			ok = slices.Contains(known, path[1])
		}
	}
	if !ok {
		return errorAt(w.ix.file, line, "unknown field %q", strings.Join(path, "."))
	}
	return nil
}

// lineCounter turns offsets into line numbers, counting newlines from the
// previous offset asked for, so that a walk in file order is linear.
type lineCounter struct {
	data   []byte
	offset int
	line   int
}

// at returns the 1-based line of offset.
func (c *lineCounter) at(off uint32) int {
	o := min(int(off), len(c.data))
	if o < c.offset || c.line == 0 {
		c.offset, c.line = 0, 1
	}
	c.line += bytes.Count(c.data[c.offset:o], []byte{'\n'})
	c.offset = o
	return c.line
}
