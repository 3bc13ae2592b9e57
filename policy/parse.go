package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/pelletier/go-toml/v2"
)

// MaxSize is the largest policy Parse reads, in bytes (whole MiB, for the
// error message); a larger one is refused whole, never cut. A caller that
// reads the document first reads up to MaxSize+1 bytes, so that Parse
// says a bigger one is too big.
const MaxSize = 4 << 20

// Digest is the hex SHA-256 of a policy document: the version's name in
// the log and in the shared store.
func Digest(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// document is the policy file as TOML.
type document struct {
	Decide  *string             `toml:"decide"`
	Roles   []string            `toml:"roles"`
	Groups  map[string][]string `toml:"groups"`
	Rules   []ruleDoc           `toml:"rule"`
	Options []optionDoc         `toml:"option"`
	Webhook []webhookDoc        `toml:"webhook"`
}

// optionDoc is one [[option]] as TOML.
type optionDoc struct {
	Repos          []string `toml:"repos"`
	ReposRegex     []string `toml:"repos_regex"`
	ExplicitRights []string `toml:"explicit_rights"`
	DenyRules      *bool    `toml:"deny_rules"`
}

// maxRoles is how many roles a policy may declare (bits of a mask).
const maxRoles = 64

// rolePrefix marks a users entry that names a role.
const rolePrefix = "role:"

// ruleDoc is one [[rule]] as TOML. Access is a pointer so that a missing
// access is told apart from a misspelt one.
type ruleDoc struct {
	Repos      []string `toml:"repos"`
	ReposRegex []string `toml:"repos_regex"`
	Users      []string `toml:"users"`
	Refs       []string `toml:"refs"`
	RefsRegex  []string `toml:"refs_regex"`
	Access     *string  `toml:"access"`
	Allow      []string `toml:"allow"`
}

// Parse reads a policy from r. file names it in errors and in each rule's
// position; Parse does not open it. Errors have the form
// "policy: FILE:LINE: message", and a policy with any error is rejected
// whole: there is no partial policy.
func Parse(file string, r io.Reader) (*Policy, error) {
	data, err := bounded.ReadAll(r, MaxSize, file)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var doc document
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(file, err)
	}
	ix, err := buildIndex(file, data)
	if err != nil {
		return nil, err
	}
	return compile(&doc, ix)
}

// decodeError turns a go-toml error into errors with the file and line.
func decodeError(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) && len(strict.Errors) > 0 {
		errs := make([]error, len(strict.Errors))
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			errs[i] = errorAt(file, line, "unknown field %q", strings.Join(e.Key(), "."))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if want := wantType(de.Key()); want != "" && strings.HasPrefix(msg, "cannot ") {
			// Say what the key must hold rather than name Go types.
			msg = fmt.Sprintf("%q must be %s", strings.Join(de.Key(), "."), want)
		}
		return errorAt(file, line, "%s", msg)
	}
	return errorAt(file, 0, "%v", err)
}

// wantType describes the type the value at key must have, or "".
func wantType(key []string) string {
	switch {
	case slices.Equal(key, []string{"groups"}):
		return "a table of groups"
	case slices.Equal(key, []string{"rule"}):
		return "an array of tables ([[rule]])"
	case slices.Equal(key, []string{"option"}):
		return "an array of tables ([[option]])"
	case slices.Equal(key, []string{"webhook"}):
		return "an array of tables ([[webhook]])"
	case slices.Equal(key, []string{"webhook", "allow_private"}):
		return "true or false"
	case len(key) == 2 && key[0] == "webhook" && key[1] != "events" && key[1] != "repos" && key[1] != "refs":
		return "a string"
	case slices.Equal(key, []string{"decide"}), slices.Equal(key, []string{"rule", "access"}):
		return "a string"
	case slices.Equal(key, []string{"option", "deny_rules"}):
		return "true or false"
	case slices.Equal(key, []string{"roles"}), len(key) == 2:
		return "a list of strings"
	}
	return ""
}

// builder compiles a decoded document into a Policy.
type builder struct {
	p    *Policy
	ix   *index
	gids map[string]int32
}

// compile checks and compiles doc; ix gives the lines for errors.
func compile(doc *document, ix *index) (*Policy, error) {
	if err := checkGroups(doc.Groups, ix); err != nil {
		return nil, err
	}
	members, err := flatten(doc.Groups, ix)
	if err != nil {
		return nil, err
	}
	b := &builder{
		p:    &Policy{groups: members, users: make(map[string]*member)},
		ix:   ix,
		gids: make(map[string]int32, len(members)),
	}
	b.p.gids = b.gids
	if err := b.settings(doc); err != nil {
		return nil, err
	}
	// Groups are numbered in file order and each user's list is built
	// in that order, so it is sorted for binary search.
	for _, g := range ix.groupOrder(members) {
		gid := int32(len(b.gids))
		b.gids[g] = gid
		for _, u := range members[g] {
			m := b.member(u)
			m.groups = append(m.groups, gid)
		}
	}
	for i := range doc.Rules {
		r, err := b.rule(&doc.Rules[i], ix.ruleLine(i))
		if err != nil {
			return nil, err
		}
		b.p.Rules = append(b.p.Rules, r)
	}
	for i := range doc.Options {
		o, err := b.option(&doc.Options[i], ix.optionLine(i))
		if err != nil {
			return nil, err
		}
		b.p.options = append(b.p.options, o)
	}
	if err := b.webhooks(doc.Webhook); err != nil {
		return nil, err
	}
	return b.p, nil
}

// settings checks and sets the top-level keys: decide and roles.
func (b *builder) settings(doc *document) error {
	if doc.Decide != nil {
		switch *doc.Decide {
		case "first-match":
		case "first-grant":
			b.p.FirstGrant = true
		default:
			return errorAt(b.ix.file, b.ix.keys["decide"], "unknown decide %q (want first-match or first-grant)", *doc.Decide)
		}
	}
	if len(doc.Roles) > maxRoles {
		return errorAt(b.ix.file, b.ix.keys["roles"], "more than %d roles", maxRoles)
	}
	b.p.roleIDs = make(map[string]uint8, len(doc.Roles))
	for _, r := range doc.Roles {
		if !validGroup(r) {
			return errorAt(b.ix.file, b.ix.keys["roles"], "invalid role name %q (letters, digits and ._-)", r)
		}
		if _, dup := b.p.roleIDs[r]; dup {
			return errorAt(b.ix.file, b.ix.keys["roles"], "role %q declared twice", r)
		}
		b.p.roleIDs[r] = uint8(len(b.p.Roles))
		b.p.Roles = append(b.p.Roles, r)
	}
	return nil
}

// option compiles one [[option]], found at line.
func (b *builder) option(d *optionDoc, line int) (*option, error) {
	file := b.ix.file
	if len(d.Repos) == 0 && len(d.ReposRegex) == 0 {
		return nil, errorAt(file, line, "option has no repos")
	}
	if len(d.ExplicitRights) == 0 && d.DenyRules == nil {
		return nil, errorAt(file, line, "option sets nothing (explicit_rights or deny_rules)")
	}
	o := &option{denyRules: d.DenyRules != nil && *d.DenyRules}
	var err error
	if o.patterns, err = compileRepoPatterns(d.Repos); err != nil {
		return nil, errorAt(file, line, "%v", err)
	}
	if o.regexes, err = compileRegexes(d.ReposRegex); err != nil {
		return nil, errorAt(file, line, "%v", err)
	}
	if o.explicit, err = parseRights(d.ExplicitRights); err != nil {
		return nil, errorAt(file, line, "%v", err)
	}
	if slices.ContainsFunc(slices.Concat(d.Repos, d.ReposRegex), func(s string) bool { return strings.Contains(s, creatorVar) }) {
		b.p.creator = true
	}
	return o, nil
}

// parseRights returns the rights a list names; naming one twice is an
// error, as it is likely a typo for another.
func parseRights(list []string) (Rights, error) {
	var out Rights
	for _, s := range list {
		r, err := ParseRight(s)
		if err != nil {
			return 0, err
		}
		if out&r != 0 {
			return 0, fmt.Errorf("right %q listed twice", s)
		}
		out |= r
	}
	return out, nil
}

// member returns the entry of user u, adding it if needed.
func (b *builder) member(u string) *member {
	m := b.p.users[u]
	if m == nil {
		m = &member{id: int32(len(b.p.users))}
		b.p.users[u] = m
	}
	return m
}

// rule compiles one rule, found at line.
func (b *builder) rule(d *ruleDoc, line int) (*Rule, error) {
	file := b.ix.file
	switch {
	case len(d.Repos) == 0 && len(d.ReposRegex) == 0:
		return nil, errorAt(file, line, "rule has no repos")
	case len(d.Users) == 0:
		return nil, errorAt(file, line, "rule has no users")
	case d.Access == nil && d.Allow == nil:
		return nil, errorAt(file, line, "rule has no access (or allow)")
	case d.Refs != nil && len(d.Refs) == 0, d.RefsRegex != nil && len(d.RefsRegex) == 0:
		// An empty list would read as "every ref": say so instead.
		return nil, errorAt(file, line, "empty refs list (leave refs out to mean every ref)")
	case d.Allow != nil && len(d.Allow) == 0:
		return nil, errorAt(file, line, `empty allow list (use access = "none" to refuse)`)
	}
	a := None
	var err error
	if d.Access != nil {
		if a, err = parseAccess(*d.Access); err != nil {
			return nil, errorAt(file, line, "%v", err)
		}
	}
	explicit, err := parseRights(d.Allow)
	if err != nil {
		return nil, errorAt(file, line, "%v", err)
	}
	deny := d.Access != nil && a == None
	if deny && explicit != 0 {
		return nil, errorAt(file, line, `a rule with access = "none" refuses: it cannot also allow`)
	}
	r := &Rule{File: file, Line: line, Repos: d.Repos, ReposRegex: d.ReposRegex, Users: d.Users,
		Refs: d.Refs, RefsRegex: d.RefsRegex, Access: a, Allow: d.Allow,
		Rights: a.Rights() | explicit, explicit: explicit, deny: deny}
	if err := b.rulePatterns(r); err != nil {
		return nil, errorAt(file, line, "%v", err)
	}
	for _, u := range d.Users {
		if err := b.ruleUser(r, u); err != nil {
			return nil, errorAt(file, line, "%v", err)
		}
	}
	slices.Sort(r.uids)
	slices.Sort(r.gids)
	return r, nil
}

// rulePatterns compiles the repo and ref patterns and regexes of r.
func (b *builder) rulePatterns(r *Rule) error {
	var err error
	if r.patterns, err = compileRepoPatterns(r.Repos); err != nil {
		return err
	}
	for _, s := range r.Refs {
		pat, err := compileRefPattern(s)
		if err != nil {
			return fmt.Errorf("bad ref pattern %q: %v", s, err)
		}
		r.refPatterns = append(r.refPatterns, pat)
	}
	if r.repoRegexes, err = compileRegexes(r.ReposRegex); err != nil {
		return err
	}
	if r.refRegexes, err = compileRegexes(r.RefsRegex); err != nil {
		return err
	}
	all := slices.Concat(r.Repos, r.ReposRegex, r.Refs, r.RefsRegex)
	if slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, creatorVar) }) {
		b.p.creator = true
	}
	return nil
}

// compileRepoPatterns compiles the repos patterns of a rule or an option.
func compileRepoPatterns(list []string) ([]*pattern, error) {
	var out []*pattern
	for _, s := range list {
		pat, err := compilePattern(s)
		if err != nil {
			return nil, fmt.Errorf("bad repo pattern %q: %v", s, err)
		}
		out = append(out, pat)
	}
	return out, nil
}

// compileRegexes compiles a list of regular expressions.
func compileRegexes(list []string) ([]*regex, error) {
	var out []*regex
	for _, s := range list {
		re, err := compileRegex(s)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// ruleUser adds one users entry to r.
func (b *builder) ruleUser(r *Rule, u string) error {
	switch u {
	case allUsers:
		r.all = true
		return nil
	case creatorVar:
		r.creator, b.p.creator = true, true
		return nil
	}
	if role, ok := strings.CutPrefix(u, rolePrefix); ok {
		id, ok := b.p.roleIDs[role]
		if !ok {
			return fmt.Errorf("unknown role %q (declare it in roles = [...] at the top)", role)
		}
		r.roles |= 1 << id
		return nil
	}
	if name, ok := groupRef(u); ok {
		gid, ok := b.gids[name]
		if !ok {
			return fmt.Errorf("unknown group %q", u)
		}
		r.gids = append(r.gids, gid)
		return nil
	}
	if !validUser(u) {
		return fmt.Errorf("invalid user name %q", u)
	}
	r.uids = append(r.uids, b.member(u).id)
	return nil
}
