package policy

import "slices"

// IsAdmin reports whether user is a gitserver administrator: some rule
// with repos = ["**"] exactly, no refs and the admin right names the user,
// directly, through a group or through @all ({creator} does not count).
// An administrator may manage other users' keys over SSH. Rules about
// single repositories, earlier or later, do not change the answer: being
// an administrator is not about one repository.
func (p *Policy) IsAdmin(user string) bool {
	if p == nil || !validUser(user) {
		return false
	}
	m := p.users[user]
	v := vars{user: user}
	for _, r := range p.Rules {
		if r.Rights&RightAdmin != 0 && !r.HasRefs() && slices.Equal(r.Repos, []string{"**"}) &&
			len(r.ReposRegex) == 0 && r.hasUser(m, v, 0) {
			return true
		}
	}
	return false
}

// CreatePatterns returns the repos patterns and regular expressions (the
// latter as "regex:EXPR") of the rules that grant user create-repo,
// in rule order, for display: they say where the user may create
// repositories by pushing, unless an earlier rule refuses a given name.
// A {creator} rule counts, since who creates a repository is its creator.
func (p *Policy) CreatePatterns(user string) []string {
	if p == nil || !validUser(user) {
		return nil
	}
	m := p.users[user]
	v := vars{user: user, creator: user}
	var out []string
	for _, r := range p.Rules {
		if r.Rights&RightCreateRepo == 0 || !r.hasUser(m, v, 0) {
			continue
		}
		out = append(out, r.Repos...)
		for _, re := range r.ReposRegex {
			out = append(out, "regex:"+re)
		}
	}
	return out
}
