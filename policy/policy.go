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
// The first rule whose repos, users and refs all match a request decides:
// its access is the user's access. When no rule matches, the answer is no
// access.
//
// Levels are ordered, each including the ones before it: none, read
// (clone, fetch, archive), write (push new refs and fast-forwards), force
// (also non-fast-forward updates, deletes, and any change to an existing
// tag: see RefRewind), create (also create a
// missing repository by pushing to it) and admin (also manage other
// users' keys over SSH; see IsAdmin). Each level stands for a set of
// rights (see Rights): read, create-ref, fast-forward, rewind,
// delete-ref, create-repo and admin. A rule's allow list names rights
// one by one, with or without access: allow = ["create-repo"] lets users
// create repositories and nothing else; access = "write" with
// allow = ["delete-ref"] adds deletes to write.
//
// decide = "first-grant", at the top of the file, changes how rules
// decide to gitolite's way: a rule that matches but does not grant what
// is asked is passed over, the first rule that grants it allows, and a
// "none" rule denies. Roles, declared at the top (roles = ["READERS"]),
// are named in users as "role:READERS"; their members are stored with
// each repository (see Request.Roles). An [[option]] sets, for the
// repositories it names, rights that only an allow list grants there
// (explicit_rights, as gitolite's RWC and RWD make ref creation and
// deletion) and deny_rules (none rules with refs refuse the whole
// repository too, as gitolite's option deny-rules).
//
// Repository patterns match canonical names such as "owner/repo": "*"
// matches within one /-separated segment, "**" as a whole segment matches
// zero or more segments, "{user}" is the requesting user's name,
// "{creator}" the repository's creator, and a ".git" suffix is ignored on
// both the pattern and the name. Every other character is literal, except
// ?, [, ] and \, which are reserved (an error). Where a glob cannot say it,
// repos_regex holds RE2 regular expressions matched against the whole name
// (without ".git"); {user} and {creator} in them stand for the quoted
// names.
//
// A rule may name refs: refs holds ref globs with the same syntax ("main"
// means "refs/heads/main", "refs/tags/v*"), refs_regex regular
// expressions over the full ref name. Such a rule decides the pushed ref
// updates it matches, each checked on its own (see RefOp). For a check of
// the whole repository (a read, or the start of a push) a rule with refs
// counts as matching unless it grants none, as in gitolite: a grant on
// one branch lets the user read and push, a "none" on one branch refuses
// only updates of that branch. A rule without refs matches every ref.
//
// Users entries are a user name, "@group", "@all" for every
// authenticated user, or "{creator}" for the user who created the
// repository. User names are letters, digits and ._@-, not
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
// a broader rule after it. A "{creator}" matches nothing while the
// creator is unknown. Decide denies, without looking at the rules, a
// user name that is not valid (see above), a repository name that is not
// canonical (empty, a leading or trailing "/", an empty, "." or ".."
// segment), a ref not of the form "refs/...", and a wanted level of None,
// the zero value, so that a caller that forgot to set the level gets a
// denial.
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
	// Rules are the rules in file order (see Check for how they decide).
	// They are shared with every Decision: do not modify them.
	Rules []*Rule
	// FirstGrant is set by decide = "first-grant": rules that match
	// but do not grant what is asked are passed over.
	FirstGrant bool
	// Roles are the role names the policy declares, in file order.
	Roles []string

	groups   map[string][]string // group -> its users, expanded, sorted
	gids     map[string]int32    // group -> its number
	users    map[string]*member  // every user a group or rule names
	options  []*option
	webhooks []*Webhook
	roleIDs  map[string]uint8 // role -> its bit in a held-roles mask
	creator  bool             // some rule or option mentions {creator}
}

// member is a user named in the policy: its number, used by rules that
// name it, and the numbers of the groups it belongs to, sorted.
type member struct {
	id     int32
	groups []int32
}

// Rule is one [[rule]] of a policy.
type Rule struct {
	File       string   // as given to Parse
	Line       int      // line of its [[rule]] header; 0 if unknown
	Repos      []string // patterns as written
	ReposRegex []string // regular expressions as written
	Users      []string // as written
	Refs       []string // ref patterns as written; none means every ref
	RefsRegex  []string // ref regular expressions as written
	Access     Access   // the level; None also when only allow is given
	Allow      []string // rights named one by one, as written
	// Rights is what the rule grants: its level's rights and the allow
	// list's. In a repository whose options make a right explicit, the
	// level's do not count for it (see Check).
	Rights Rights

	explicit    Rights // the allow list's rights
	deny        bool   // access = "none"
	patterns    []*pattern
	repoRegexes []*regex
	refPatterns []*pattern
	refRegexes  []*regex
	all         bool    // users holds @all
	creator     bool    // users holds {creator}
	uids        []int32 // users named directly, sorted
	gids        []int32 // groups named, sorted
	roles       uint64  // roles named, as bits of Policy.roleIDs
}

// option is one [[option]] of a policy: settings for the repositories it
// names.
type option struct {
	patterns  []*pattern
	regexes   []*regex
	explicit  Rights // rights only an allow list grants here
	denyRules bool   // none rules with refs refuse the whole repository too
}

// Grants describes what the rule grants as written: its level and the
// rights its allow list names ("write+delete-ref"), or "none".
func (r *Rule) Grants() string {
	if r.deny || len(r.Allow) == 0 {
		return r.Access.String()
	}
	if r.Access == None {
		return r.explicit.String()
	}
	return r.Access.String() + "+" + r.explicit.String()
}

// HasRefs reports whether the rule names refs: it then decides only the
// pushed ref updates it matches (see Check).
func (r *Rule) HasRefs() bool { return len(r.refPatterns)+len(r.refRegexes) > 0 }

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

// hasUser reports whether the rule's users include user, whose entry is
// m (nil for a user the policy never names) and who holds the roles
// held on the repository.
func (r *Rule) hasUser(m *member, v vars, held uint64) bool {
	if r.all || r.creator && v.creator != "" && v.user == v.creator || r.roles&held != 0 {
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

// hasRepo reports whether one of the rule's patterns or regular
// expressions matches the repository, given split and as a string.
func (r *Rule) hasRepo(name []string, repo string, v vars) bool {
	return matchRepo(r.patterns, r.repoRegexes, name, repo, v)
}

// matchRepo reports whether one of the patterns or regular expressions
// matches the repository, given split and as a string: the repos and
// repos_regex of a rule or an option.
func matchRepo(patterns []*pattern, regexes []*regex, name []string, repo string, v vars) bool {
	for _, p := range patterns {
		if p.match(name, v) {
			return true
		}
	}
	for _, re := range regexes {
		if re.match(repo, v) {
			return true
		}
	}
	return false
}

// hasRef reports whether the rule applies to ref (split and as a string);
// ref is nil for a check of the whole repository. A rule without refs
// applies to every ref. A rule with refs applies to the refs it names
// and, as in gitolite, to a whole-repository check unless it grants
// none: "write on main" lets the user read the repository and start a
// push, while "none on main" only refuses updates of main, unless the
// repository's options set deny_rules.
func (r *Rule) hasRef(ref []string, refName string, v vars, denyRules bool) bool {
	if !r.HasRefs() {
		return true
	}
	if ref == nil {
		return !r.deny || denyRules
	}
	for _, p := range r.refPatterns {
		if p.match(ref, v) {
			return true
		}
	}
	for _, re := range r.refRegexes {
		if re.match(refName, v) {
			return true
		}
	}
	return false
}

// Decision is the outcome of one request.
type Decision struct {
	Allow  bool
	Access Access // the deciding rule's level (None when no rule decided)
	Rule   *Rule  // the deciding rule; nil when none did
	// Explicit is set when what was asked is a right the repository's
	// options make explicit: only an allow list naming it grants it.
	Explicit Rights
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
	grants := d.Access.String()
	if len(d.Rule.Allow) > 0 {
		grants = d.Rule.Grants()
	}
	return verdict + ": " + grants + " by " + d.Rule.Pos()
}

// Decide returns whether user may have access want to the repository
// repo, a canonical name with or without ".git". It is Check without a
// creator, roles or a ref. Decide does not allocate for names of up to
// 32 segments and rules without placeholders in regular expressions.
func (p *Policy) Decide(user, repo string, want Access) Decision {
	return p.Check(Request{User: user, Repo: repo, Want: want})
}

// DecideRef returns whether user may apply op to ref in repo, whose
// creator is creator ("" when unknown).
func (p *Policy) DecideRef(user, repo, creator, ref string, op RefOp) Decision {
	return p.Check(Request{User: user, Repo: repo, Creator: creator, Ref: ref, Op: op})
}

// Request is one question to the policy.
type Request struct {
	User string
	Repo string // canonical name, with or without ".git"
	// Creator is who created the repository, for {creator}; "" when it
	// is unknown, and then {creator} matches nothing. When a repository
	// is being created, its creator is the user creating it.
	Creator string
	// Roles are the repository's role members: role name -> entries
	// (user names, "@group", "@all"), as stored with the repository.
	// Roles the policy does not declare and entries that are not valid
	// are ignored, as gitolite ignores them.
	Roles map[string][]string
	// Ref is a full ref name ("refs/heads/main") for one pushed update,
	// or "" for a check of the whole repository (reads, and the check
	// before a push starts).
	Ref string
	// Op is what the update does to Ref. With Ref "", it asks whether
	// some ref may have it done. A request with a Ref needs an Op, or
	// Want read: whether the rules for Ref grant read, which is what
	// gitolite's "access REPO USER R REF" asks (fetches never ask it:
	// they are decided for the whole repository).
	Op RefOp
	// Want is the level wanted of the whole repository, when Op is not
	// set: read needs read, write any ref right (a push may start),
	// force rewind, create create-repo and admin admin.
	Want Access
}

// need returns the rights q needs and whether any one of them is enough.
func (q *Request) need() (Rights, bool) {
	if q.Op != 0 {
		return q.Op.Right(), false
	}
	if q.Ref != "" {
		if q.Want == Read {
			return RightRead, false
		}
		return 0, false
	}
	switch q.Want {
	case Read:
		return RightRead, false
	case Write:
		return refRights, true
	case Force:
		return RightRewind, false
	case Create:
		return RightCreateRepo, false
	case Admin:
		return RightAdmin, false
	}
	return 0, false
}

// Check returns the decision for q. Rules are taken in file order, each
// one whose users, repos and refs all match q: a none rule denies; a
// rule that grants what q needs allows; a rule that does not grant it
// denies, unless the policy says decide = "first-grant", which passes
// over it to the next. When no rule decides, the answer is deny.
func (p *Policy) Check(q Request) Decision {
	if p == nil || !validUser(q.User) {
		return Decision{}
	}
	need, any := q.need()
	if need == 0 {
		return Decision{}
	}
	var buf, refBuf [maxSegments]string
	name, ok := splitName(q.Repo, buf[:0])
	if !ok {
		return Decision{}
	}
	var ref []string
	if q.Ref != "" {
		if ref, ok = splitPath(q.Ref, refBuf[:0]); !ok || ref[0] != "refs" {
			return Decision{}
		}
	}
	repo := trimGit(q.Repo)
	v := vars{user: q.User, creator: q.Creator}
	m := p.users[q.User]
	explicit, denyRules := p.optionsFor(name, repo, v)
	held := p.rolesHeld(q.User, m, q.Roles)
	ex := explicit & need
	for _, r := range p.Rules {
		if !r.hasUser(m, v, held) || !r.hasRepo(name, repo, v) || !r.hasRef(ref, q.Ref, v, denyRules) {
			continue
		}
		if r.deny {
			return Decision{Rule: r, Explicit: ex}
		}
		got := r.Rights&^explicit | r.explicit
		if any && got&need != 0 || !any && got&need == need {
			return Decision{Allow: true, Access: r.Access, Rule: r, Explicit: ex}
		}
		if !p.FirstGrant {
			return Decision{Access: r.Access, Rule: r, Explicit: ex}
		}
	}
	return Decision{Explicit: ex}
}

// optionsFor returns what the options naming the repository set: the
// rights that only allow lists grant there, and deny_rules.
func (p *Policy) optionsFor(name []string, repo string, v vars) (Rights, bool) {
	var explicit Rights
	deny := false
	for _, o := range p.options {
		if o.has(name, repo, v) {
			explicit |= o.explicit
			deny = deny || o.denyRules
		}
	}
	return explicit, deny
}

func (o *option) has(name []string, repo string, v vars) bool {
	return matchRepo(o.patterns, o.regexes, name, repo, v)
}

// rolesHeld returns the declared roles user (m in the policy) holds in
// roles, as bits.
func (p *Policy) rolesHeld(user string, m *member, roles map[string][]string) uint64 {
	var held uint64
	for role, members := range roles {
		id, ok := p.roleIDs[role]
		if !ok {
			continue
		}
		for _, e := range members {
			if e == user || e == allUsers || m != nil && p.inGroup(m, e) {
				held |= 1 << id
				break
			}
		}
	}
	return held
}

// inGroup reports whether m is in the group entry e ("@name").
func (p *Policy) inGroup(m *member, e string) bool {
	name, ok := groupRef(e)
	if !ok {
		return false
	}
	gid, ok := p.gids[name]
	if !ok {
		return false
	}
	_, ok = slices.BinarySearch(m.groups, gid)
	return ok
}

// UsesRoles reports whether any rule names a role: callers need not read
// a repository's role members otherwise.
func (p *Policy) UsesRoles() bool {
	return p != nil && len(p.roleIDs) > 0
}

// HasRole reports whether the policy declares role.
func (p *Policy) HasRole(role string) bool {
	if p == nil {
		return false
	}
	_, ok := p.roleIDs[role]
	return ok
}

// UsesCreator reports whether any rule mentions {creator}: callers need
// not look the creator up otherwise.
func (p *Policy) UsesCreator() bool {
	return p != nil && p.creator
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
