package keys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// DeployUser is the owner of every deploy key: a reserved name, no
// person's. A record is a deploy key exactly when its User is DeployUser
// and its Deploy is set.
const DeployUser = "@deploy"

// Bounds on a deploy grant.
const (
	MaxDeployRepos = 100
	MaxDeployRefs  = 32
	maxDeployItem  = 256
)

// Deploy is what a deploy key may reach: only Repos, read, or with
// Write also push, and then only to refs matching Refs (none: any ref).
// Names and patterns are checked here for form only; the commands that
// make grants check them as repository names and ref patterns.
type Deploy struct {
	Repos []string `json:"repos"`
	Write bool     `json:"write,omitempty"`
	Refs  []string `json:"refs,omitempty"`
}

// Check checks a grant's form: one to MaxDeployRepos repository names,
// at most MaxDeployRefs ref patterns under refs/ (for Write only), each
// printable, without spaces, at most 256 bytes.
func (d *Deploy) Check() error {
	if len(d.Repos) == 0 || len(d.Repos) > MaxDeployRepos {
		return fmt.Errorf("keys: a deploy key reaches 1 to %d repositories, not %d", MaxDeployRepos, len(d.Repos))
	}
	if len(d.Refs) > MaxDeployRefs {
		return fmt.Errorf("keys: a deploy key names at most %d ref patterns", MaxDeployRefs)
	}
	if len(d.Refs) > 0 && !d.Write {
		return errors.New("keys: ref patterns are for a deploy key with write access")
	}
	for _, r := range d.Repos {
		if err := deployItem(r); err != nil {
			return fmt.Errorf("keys: deploy repository %s: %w", Quote(r), err)
		}
	}
	for _, r := range d.Refs {
		if err := deployItem(r); err != nil || !strings.HasPrefix(r, "refs/") {
			return fmt.Errorf("keys: deploy ref pattern %s is not a pattern under refs/", Quote(r))
		}
	}
	return nil
}

func deployItem(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > maxDeployItem:
		return fmt.Errorf("longer than %d bytes", maxDeployItem)
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0:
		return errors.New("space or control character")
	}
	return nil
}

// checkDeploy ties a record's owner to its grant.
func (r Record) checkDeploy() error {
	switch {
	case r.Deploy == nil && r.User == DeployUser:
		return fmt.Errorf("keys: %s is reserved for deploy keys; use 'gitserver deploy-keys add'", DeployUser)
	case r.Deploy == nil:
		return nil
	case r.User != DeployUser:
		return fmt.Errorf("keys: a deploy key belongs to %s, not to %s", DeployUser, Quote(r.User))
	}
	return r.Deploy.Check()
}

// appendDeploy encodes a grant after a version 3 record's version 2
// fields: write as a byte, then the repositories and the refs, each a
// count and length-prefixed strings.
func appendDeploy(b []byte, d *Deploy) []byte {
	w := byte(0)
	if d.Write {
		w = 1
	}
	b = append(b, w)
	for _, list := range [][]string{d.Repos, d.Refs} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

func decodeDeploy(b []byte) (*Deploy, []byte, error) {
	if len(b) == 0 || b[0] > 1 {
		return nil, nil, errors.New("bad deploy write flag")
	}
	d := &Deploy{Write: b[0] == 1}
	b = b[1:]
	for _, list := range []*[]string{&d.Repos, &d.Refs} {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > MaxDeployRepos {
			return nil, nil, errors.New("bad deploy list")
		}
		b = b[w:]
		for range n {
			l, w := binary.Uvarint(b)
			if w <= 0 || l > uint64(len(b)-w) {
				return nil, nil, errors.New("truncated deploy item")
			}
			*list, b = append(*list, string(b[w:w+int(l)])), b[w+int(l):]
		}
	}
	return d, b, nil
}
