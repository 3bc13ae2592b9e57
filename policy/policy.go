// Package policy decides who may read or write which repository, from a
// TOML policy file of groups and ordered rules:
//
//	[groups]
//	admins = ["alice"]
//	staff  = ["bob", "@admins"]
//
//	[[rule]]
//	repos  = ["users/{user}/**"]
//	users  = ["@all"]
//	access = "write"
//
// The first rule whose repos and users both match a request decides: its
// access is the user's access to the repository. When no rule matches,
// the answer is no access.
//
// Repository patterns match canonical names such as "owner/repo": "*"
// matches within one /-separated segment, "**" as a whole segment matches
// zero or more segments, "{user}" is the requesting user's name, and a
// ".git" suffix is ignored on both the pattern and the name. Every other
// character is literal, except ?, [, ] and \, which are reserved (an error
// today) for a later pattern syntax.
//
// Users entries are a user name, "@group", or "@all" for every
// authenticated user. User names are letters, digits and ._@-, not
// starting with "@" and not "." or ".."; group names are letters, digits
// and ._-, and "all" is reserved. Groups may include users and groups
// (not @all); they are expanded when the policy is parsed.
//
// The package is pure: Parse takes a reader and Decide a name, and
// neither touches files, the environment or a logger.
//
// # Security
//
// The policy fails closed. No matching rule means no access; a rule
// granting "none" stops the search, so it can carve an exception out of
// a broader rule after it. Decide denies, without looking at the rules, a
// user name that is not valid (see above), a repository name that is not
// canonical (empty, a leading or trailing "/", an empty, "." or ".."
// segment), and a wanted level of None, the zero value, so that a caller
// that forgot to set the level gets a denial.
//
// Parse rejects the whole file on any error: unknown keys, keys in the
// wrong case (go-toml itself matches names case-insensitively), unknown
// groups, group cycles, bad patterns and unknown levels. A typo in a
// security setting is an error with its line, never a silent default.
// Input is limited to 4 MiB.
package policy

import (
	"slices"
	"strconv"
)

// Policy is a parsed policy file. It is read-only after Parse and safe
// for concurrent use. A nil or zero Policy denies everything.
type Policy struct {
	// Rules are the rules in file order; the first match decides.
	// They are shared with every Decision: do not modify them.
	Rules []*Rule

	groups map[string][]string // group -> its users, expanded, sorted
	users  map[string]*member  // every user a group or rule names
}

// member is a user named in the policy: its number, used by rules that
// name it, and the numbers of the groups it belongs to, sorted.
type member struct {
	id     int32
	groups []int32
}

// Rule is one [[rule]] of a policy.
type Rule struct {
	File   string   // as given to Parse
	Line   int      // line of its [[rule]] header; 0 if unknown
	Repos  []string // patterns as written
	Users  []string // as written
	Access Access

	patterns []*pattern
	all      bool    // users holds @all
	uids     []int32 // users named directly, sorted
	gids     []int32 // groups named, sorted
}

// Pos returns the rule's position as "FILE:LINE", or "FILE" when the line
// is unknown, for logs and tools. A nil Rule gives "".
func (r *Rule) Pos() string {
	switch {
	case r == nil:
		return ""
	case r.Line <= 0:
		return r.File
	}
	return r.File + ":" + strconv.Itoa(r.Line)
}

// hasUser reports whether the rule's users include the user whose entry
// is m (nil for a user the policy never names).
func (r *Rule) hasUser(m *member) bool {
	if r.all {
		return true
	}
	if m == nil {
		return false
	}
	if _, ok := slices.BinarySearch(r.uids, m.id); ok {
		return true
	}
	for _, g := range r.gids {
		if _, ok := slices.BinarySearch(m.groups, g); ok {
			return true
		}
	}
	return false
}

// hasRepo reports whether one of the rule's patterns matches name.
func (r *Rule) hasRepo(name []string, user string) bool {
	for _, p := range r.patterns {
		if p.match(name, user) {
			return true
		}
	}
	return false
}

// Decision is the outcome for one (user, repo, wanted level).
type Decision struct {
	Allow  bool
	Access Access // what the deciding rule grants (None when no rule matched)
	Rule   *Rule  // the deciding rule; nil when no rule matched
}

// String describes the decision for an operator: "allow: write by
// policy.toml:7", "deny: read by policy.toml:12", "deny: no rule matched".
func (d Decision) String() string {
	verdict := "deny"
	if d.Allow {
		verdict = "allow"
	}
	if d.Rule == nil {
		return verdict + ": no rule matched"
	}
	return verdict + ": " + d.Access.String() + " by " + d.Rule.Pos()
}

// Decide returns whether user may have access want to the repository
// repo, a canonical name with or without ".git". It is allowed when the
// first rule matching both grants want or more. Decide does not allocate
// for names of up to 32 segments.
func (p *Policy) Decide(user, repo string, want Access) Decision {
	if p == nil || !validUser(user) {
		return Decision{}
	}
	var buf [maxSegments]string
	name, ok := splitName(repo, buf[:0])
	if !ok {
		return Decision{}
	}
	m := p.users[user]
	for _, r := range p.Rules {
		if r.hasUser(m) && r.hasRepo(name, user) {
			return Decision{Allow: want > None && r.Access >= want, Access: r.Access, Rule: r}
		}
	}
	return Decision{}
}

// Members returns the users of group (named with or without its "@"),
// nested groups expanded, sorted, and whether the group exists. "all" is
// not a group: @all cannot be listed.
func (p *Policy) Members(group string) ([]string, bool) {
	if p == nil {
		return nil, false
	}
	name, _ := groupRef(group)
	users, ok := p.groups[name]
	return slices.Clone(users), ok
}
