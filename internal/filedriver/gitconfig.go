package filedriver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
)

// CreatorKey is the git config key in a repository that names the user
// who created it by pushing. gitserver sets it; clients cannot.
const CreatorKey = "gitserver.creator"

// RoleKey is the git config key that holds a repository's role members,
// one value "ROLE MEMBER" per member (a user, "@group" or "@all"), as
// gitolite's gl-perms holds them. The perms built-in sets it.
const RoleKey = "gitserver.role"

// ArchivedKey is the git config key that makes a repository read-only
// ('gitserver repos archive'): a git boolean, false when unset.
const ArchivedKey = "gitserver.archived"

// maxRoleMembers bounds the role values ReadMeta accepts.
const maxRoleMembers = 1000

// maxConfigSize bounds a repository's config file. Git writes a few
// hundred bytes; a bigger file is refused, never read in part.
const maxConfigSize = 1 << 20

// Meta is what gitserver records in a repository's config: who created
// it and who holds which role there.
type Meta struct {
	Creator string
	Roles   map[string][]string // role -> members, in file order
	// Archived: the repository is read-only (gitserver.archived).
	Archived bool
}

// ReadMeta returns the creator and the role members recorded in the
// repository at dir. The creator is the last value of gitserver.creator
// in dir/config, as "git config --file dir/config --get
// gitserver.creator" prints it, or "" when it is not set or there is no
// config file; the roles are its gitserver.role values. It does not run
// git: the info built-in asks it for every repository, and the file
// driver for every request whose policy names {creator} or a role. A
// creator that is not a valid username (keys.ValidUsername), a key
// without a value, a role value that is not "ROLE MEMBER" with a valid
// role name and member, a config file that git would reject, one larger
// than 1 MiB or not a regular file are errors. include.path is not
// followed, as git config --file does not follow it.
func ReadMeta(dir string) (Meta, error) {
	path := filepath.Join(dir, "config")
	data, err := readConfigFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{}, nil
	}
	if err != nil {
		return Meta{}, fmt.Errorf("filedriver: %w", err)
	}
	m, err := metaFrom(data)
	if err != nil {
		return Meta{}, fmt.Errorf("filedriver: %s: %w", path, err)
	}
	return m, nil
}

// readConfigFile reads the regular file at path, of at most
// maxConfigSize bytes.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return bounded.ReadAll(f, maxConfigSize, path)
}

// metaFrom reads the creator and the role members in the config file
// data, in one pass.
func metaFrom(data []byte) (Meta, error) {
	var last, archived *configEntry
	var roles []configEntry
	err := parseConfig(data, func(e configEntry) error {
		if e.section != "gitserver" || e.sub {
			return nil
		}
		switch e.key {
		case "creator":
			last = &e
		case "archived":
			archived = &e
		case "role":
			if len(roles) == maxRoleMembers {
				return fmt.Errorf("more than %d %s values", maxRoleMembers, RoleKey)
			}
			roles = append(roles, e)
		}
		return nil
	})
	if err != nil {
		return Meta{}, err
	}
	var m Meta
	if m.Creator, err = creatorOf(last); err != nil {
		return Meta{}, err
	}
	if m.Archived, err = boolOf(archived); err != nil {
		return Meta{}, err
	}
	for _, e := range roles {
		role, member, ok := strings.Cut(string(e.value), " ")
		if !ok || policy.CheckRoleMember(role, member) != nil {
			return Meta{}, fmt.Errorf("line %d: %s %s is not \"ROLE MEMBER\"", e.line, RoleKey, keys.Quote(string(e.value)))
		}
		if m.Roles == nil {
			m.Roles = make(map[string][]string)
		}
		m.Roles[role] = append(m.Roles[role], member)
	}
	return m, nil
}

// boolOf reads the last entry of a boolean key as git does (nil: unset,
// false; a key without a value: true).
func boolOf(e *configEntry) (bool, error) {
	if e == nil {
		return false, nil
	}
	if e.value == nil {
		return true, nil
	}
	switch strings.ToLower(string(e.value)) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("line %d: gitserver.%s %s is not a boolean", e.line, e.key, keys.Quote(string(e.value)))
}

// creatorOf checks the last gitserver.creator entry (nil for none).
func creatorOf(last *configEntry) (string, error) {
	if last == nil {
		return "", nil
	}
	if last.value == nil {
		return "", fmt.Errorf("line %d: %s has no value", last.line, CreatorKey)
	}
	// Git would print a value only up to a NUL: ValidUsername refuses
	// the whole value instead.
	c := string(last.value)
	if keys.ValidUsername(c) != nil {
		return "", fmt.Errorf("line %d: invalid %s %s", last.line, CreatorKey, keys.Quote(c))
	}
	return c, nil
}

// A config file is parsed as git's config.c parses it (git_parse_source
// and the functions it calls), so that ReadMeta reads the value git
// would, and rejects what git rejects. The grammar, byte by byte:
//
//   - "\r\n" is one newline; the end of the file reads as newlines.
//   - A UTF-8 byte order mark may open the file; a partial one is an error.
//   - Space (' ', '\t', '\r' and newlines) separates; '#' and ';' start a
//     comment to the end of the line.
//   - "[name]" opens a section: letters, digits, '-' and '.', in any case.
//     "[name "sub"]" opens a subsection, in which '\' quotes the next byte.
//     Entries may follow on the same line.
//   - An entry is a key (a letter, then letters, digits and '-', in any
//     case), optional spaces or tabs, then the end of the line (a boolean
//     true, with no value) or '=' and a value.
//   - In a value, leading and trailing space is dropped and each other
//     space byte becomes ' '; '"' starts and ends a quoted part, in which
//     space and comment characters are literal; \" \\ \n \t \b are escapes
//     everywhere, '\' before a newline continues the value on the next
//     line, and any other escape is an error, as is a quote left open at
//     the end of the line.
//
// Bytes are ASCII: a byte of 0x80 or more is neither a letter nor space.

// configEntry is one entry of a config file.
type configEntry struct {
	section string // lower case; "a.b" for the old form [a.b]
	sub     bool   // in a subsection, [section "sub"]
	key     string // lower case
	value   []byte // nil for a key without "=", a boolean true
	line    int
}

// configScanner reads a config file one byte at a time.
type configScanner struct {
	data []byte
	pos  int
	line int  // of the byte last read, from 1
	nl   bool // the byte last read was a newline
	eof  bool // the last read was past the end
}

// next returns the next byte, '\n' for "\r\n" and at the end of the file.
func (s *configScanner) next() byte {
	if s.nl {
		s.line++
	}
	if s.pos >= len(s.data) {
		s.eof, s.nl = true, false
		return '\n'
	}
	c := s.data[s.pos]
	s.pos++
	if c == '\r' && s.pos < len(s.data) && s.data[s.pos] == '\n' {
		c = '\n'
		s.pos++
	}
	s.nl = c == '\n'
	return c
}

func (s *configScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{s.line}, args...)...)
}

// parseConfig calls fn for each entry of the config file data, in order,
// and returns the first syntax error or error from fn.
func parseConfig(data []byte, fn func(configEntry) error) error {
	s := &configScanner{data: data, line: 1}
	if len(data) > 0 && data[0] == 0xef {
		if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			return s.errorf("partial byte order mark")
		}
		s.pos = 3
	}
	var section string
	var sub, comment bool
	for {
		c := s.next()
		switch {
		case c == '\n':
			if s.eof {
				return nil
			}
			comment = false
		case comment || isConfigSpace(c):
		case c == '#' || c == ';':
			comment = true
		case c == '[':
			var err error
			if section, sub, err = s.section(); err != nil {
				return err
			}
		case isConfigAlpha(c):
			e, err := s.entry(c)
			if err != nil {
				return err
			}
			e.section, e.sub = section, sub
			if err := fn(e); err != nil {
				return err
			}
		default:
			return s.errorf("unexpected %q", c)
		}
	}
}

// section reads a section header after its '['.
func (s *configScanner) section() (name string, sub bool, err error) {
	var b []byte
	for {
		c := s.next()
		switch {
		case s.eof:
			return "", false, s.errorf("unterminated section header")
		case c == ']':
			if len(b) == 0 {
				return "", false, s.errorf("empty section name")
			}
			return string(b), false, nil
		case isConfigSpace(c):
			return string(b), true, s.subsection(c)
		case !isConfigKeyChar(c) && c != '.':
			return "", false, s.errorf("invalid section name: unexpected %q", c)
		}
		b = append(b, lowerASCII(c))
	}
}

// subsection reads the rest of [section "sub"] after the space c that
// ends the section name. Its name is not kept: no key read here is in one.
func (s *configScanner) subsection(c byte) error {
	for isConfigSpace(c) {
		if c == '\n' {
			return s.errorf("unterminated section header")
		}
		c = s.next()
	}
	if c != '"' {
		return s.errorf(`invalid section header: want [section "subsection"]`)
	}
	for {
		c = s.next()
		if c == '\\' {
			c = s.next()
		} else if c == '"' {
			break
		}
		if c == '\n' {
			return s.errorf("unterminated subsection name")
		}
	}
	if s.next() != ']' {
		return s.errorf(`invalid section header: want ']' after the subsection name`)
	}
	return nil
}

// entry reads an entry whose key starts with the letter c.
func (s *configScanner) entry(c byte) (configEntry, error) {
	e := configEntry{line: s.line}
	key := []byte{lowerASCII(c)}
	for {
		c = s.next()
		if s.eof || !isConfigKeyChar(c) {
			break
		}
		key = append(key, lowerASCII(c))
	}
	e.key = string(key)
	for c == ' ' || c == '\t' {
		c = s.next()
	}
	if c == '\n' {
		return e, nil
	}
	if c != '=' {
		return e, s.errorf("invalid key %s: unexpected %q", keys.Quote(e.key), c)
	}
	var err error
	e.value, err = s.value()
	return e, err
}

// value reads a value after its '=', to the end of its line.
func (s *configScanner) value() ([]byte, error) {
	v := []byte{}
	quote, comment := false, false
	space := 0
	for {
		c := s.next()
		switch {
		case c == '\n':
			if quote {
				return nil, s.errorf("unterminated quoted value")
			}
			return v, nil
		case comment:
			continue
		case !quote && isConfigSpace(c):
			if len(v) > 0 {
				space++
			}
			continue
		case !quote && (c == '#' || c == ';'):
			comment = true
			continue
		}
		for ; space > 0; space-- {
			v = append(v, ' ')
		}
		switch c {
		case '"':
			quote = !quote
		case '\\':
			e, ok := s.escape()
			if !ok {
				return nil, s.errorf("unknown escape in a value")
			}
			if e != 0 {
				v = append(v, e)
			}
		default:
			v = append(v, c)
		}
	}
}

// escape reads the byte after a '\' in a value and returns the byte it
// stands for, 0 for a continuation line, false for an unknown escape.
func (s *configScanner) escape() (byte, bool) {
	switch c := s.next(); c {
	case '\n':
		return 0, true
	case 't':
		return '\t', true
	case 'b':
		return '\b', true
	case 'n':
		return '\n', true
	case '\\', '"':
		return c, true
	}
	return 0, false
}

// The character classes of git's ctype.c.
func isConfigSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isConfigAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isConfigKeyChar(c byte) bool {
	return isConfigAlpha(c) || '0' <= c && c <= '9' || c == '-'
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
