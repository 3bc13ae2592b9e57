package filedriver

import (
	"fmt"
	"slices"

	"github.com/gitserver/gitserver/keys"
	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// deployKey is the model of a deploy key: no person, and no policy rule
// applies to it; it reaches only what its grant, read from the key store
// at each request, names.
type deployKey struct {
	fp, title string
	grant     keys.Deploy
}

// DeployKey reports whether m is a deploy key's model, and its
// fingerprint and title, for the commands and logs that name it.
func DeployKey(m shim.UserModel) (fp, title string, ok bool) {
	d, ok := m.(deployKey)
	return d.fp, d.title, ok
}

// DeployGrant is m's grant, when m is a deploy key's model.
func DeployGrant(m shim.UserModel) (keys.Deploy, bool) {
	d, ok := m.(deployKey)
	return d.grant, ok
}

func (d deployKey) rule() string { return "deploy key " + d.fp }

// reaches decides a repository-level request: the repository must be one
// the grant names (exactly: a deploy key reaches no other, not even a
// public one), and a write needs a write grant.
func (d deployKey) reaches(path string, want policy.Access) (shim.Decision, error) {
	name, err := shim.CleanName(path)
	if err != nil {
		return shim.Decision{}, err
	}
	allow := slices.Contains(d.grant.Repos, name) && (want == policy.Read || want == policy.Write && d.grant.Write)
	return shim.Decision{Allow: allow, Rule: d.rule()}, nil
}

// refAllowed decides a pushed ref update: a write grant creates and
// fast-forwards refs matching its patterns (any ref when it names
// none); it never rewinds or deletes, and never touches a tag that
// exists (the hook makes that a rewind).
func (d deployKey) refAllowed(path string, u shim.RefUpdate) (shim.Decision, error) {
	dec, err := d.reaches(path, policy.Write)
	if err != nil || !dec.Allow {
		return dec, err
	}
	if u.Op != shim.RefCreate && u.Op != shim.RefFastForward {
		return shim.Decision{Rule: d.rule(), Need: "force"}, nil
	}
	if len(d.grant.Refs) == 0 {
		return dec, nil
	}
	for _, p := range d.grant.Refs {
		g, err := policy.CompileGlob(p)
		if err != nil {
			return shim.Decision{}, fmt.Errorf("filedriver: deploy key %s: ref pattern %s: %w", d.fp, keys.Quote(p), err)
		}
		if g.Match(u.Ref) {
			return dec, nil
		}
	}
	return shim.Decision{Rule: d.rule() + " (refs " + fmt.Sprint(d.grant.Refs) + ")"}, nil
}
