package webhook

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/gitserver/gitserver/policy"
)

// Caps on what a delivery lists.
const (
	MaxCommitsPerRef = 20
	maxRefs          = 1000
)

// Update is one ref update of a push, as the post-receive hook has it.
type Update struct {
	Old, New, Ref string
}

// Push is what happened: the repository, who pushed (a user, or the
// deploy key's owner with the key), the ref updates, and whether the
// push created the repository.
type Push struct {
	Repo, Dir string
	User, Key string
	Updates   []Update
	Created   bool
	At        time.Time
	Git       string   // absolute path of git
	Env       []string // git's environment
}

// RefChange is a ref update as a delivery lists it.
type RefChange struct {
	Ref     string   `json:"ref"`
	Before  string   `json:"before"`
	After   string   `json:"after"`
	Kind    string   `json:"kind"` // create, update, delete or force
	Commits []Commit `json:"commits,omitempty"`
}

// Commit is one commit a ref update brought, newest first.
type Commit struct {
	ID        string `json:"id"`
	Message   string `json:"message"` // its first line
	Author    string `json:"author"`
	Email     string `json:"email"`
	Timestamp string `json:"timestamp"`
}

// Body is the gitserver-format payload: one per push.
type Body struct {
	Events     []string    `json:"events"`
	Repository string      `json:"repository"`
	Pusher     Pusher      `json:"pusher"`
	Refs       []RefChange `json:"refs"`
	Time       time.Time   `json:"time"`
}

// Pusher is who pushed.
type Pusher struct {
	User      string `json:"user"`
	Key       string `json:"key"`
	DeployKey bool   `json:"deploy_key,omitempty"`
}

func isZero(s string) bool { return strings.Trim(s, "0") == "" }

// changes classifies the updates and lists their commits.
func (p *Push) changes(ctx context.Context) []RefChange {
	var out []RefChange
	for _, u := range p.Updates[:min(len(p.Updates), maxRefs)] {
		c := RefChange{Ref: u.Ref, Before: u.Old, After: u.New}
		switch {
		case isZero(u.Old):
			c.Kind = "create"
		case isZero(u.New):
			c.Kind = "delete"
		case p.git(ctx, "merge-base", "--is-ancestor", u.Old, u.New) == nil:
			c.Kind = "update"
		default:
			c.Kind = "force"
		}
		if c.Kind != "delete" {
			c.Commits = p.commits(ctx, u)
		}
		out = append(out, c)
	}
	return out
}

func (p *Push) git(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, p.Git, append([]string{"--git-dir=" + p.Dir}, args...)...)
	cmd.Env = p.Env
	return cmd.Run()
}

// commits lists up to MaxCommitsPerRef commits new has and old has not.
func (p *Push) commits(ctx context.Context, u Update) []Commit {
	args := []string{"--git-dir=" + p.Dir, "log", "--no-color", "-z", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s", "-n", "20", u.New}
	if !isZero(u.Old) {
		args = append(args, "^"+u.Old)
	}
	cmd := exec.CommandContext(ctx, p.Git, args...)
	cmd.Env = p.Env
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var cs []Commit
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Split(splitNUL)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\x1f")
		if len(f) == 5 {
			cs = append(cs, Commit{ID: f[0], Author: f[1], Email: f[2], Timestamp: f[3], Message: f[4]})
		}
	}
	return cs
}

func splitNUL(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// events are the events a push's changes make.
func events(p *Push, cs []RefChange) []string {
	var out []string
	if p.Created {
		out = append(out, policy.EventRepoCreate)
	}
	if len(cs) > 0 {
		out = append(out, policy.EventPush)
	}
	for _, c := range cs {
		if c.Kind == "create" && !slices.Contains(out, policy.EventRefCreate) {
			out = append(out, policy.EventRefCreate)
		}
		if c.Kind == "delete" && !slices.Contains(out, policy.EventRefDelete) {
			out = append(out, policy.EventRefDelete)
		}
		if strings.HasPrefix(c.Ref, "refs/tags/") && !slices.Contains(out, policy.EventTag) {
			out = append(out, policy.EventTag)
		}
	}
	return out
}

// Deliveries are the push's deliveries, one per webhook that wants one
// of its events for its repository and one of its refs: in the
// gitserver format one per push, in GitHub's one per ref.
func Deliveries(ctx context.Context, p *Push, hooks []*policy.Webhook, deployUser string) []Delivery {
	if len(hooks) == 0 {
		return nil
	}
	all := p.changes(ctx)
	evs := events(p, all)
	var out []Delivery
	for _, w := range hooks {
		var want []string
		for _, e := range evs {
			if w.Wants(e, p.Repo) {
				want = append(want, e)
			}
		}
		var cs []RefChange
		for _, c := range all {
			if w.WantsRef(c.Ref) {
				cs = append(cs, c)
			}
		}
		if len(want) == 0 || (len(cs) == 0 && !slices.Contains(want, policy.EventRepoCreate)) {
			continue
		}
		d := Delivery{URL: w.URL, SecretFile: w.SecretFile, Format: w.Format, Timeout: w.Timeout, AllowPrivate: w.AllowPrivate,
			Repo: p.Repo, Created: p.At, NextAt: p.At, Event: strings.Join(want, ",")}
		pusher := Pusher{User: p.User, Key: p.Key, DeployKey: p.User == deployUser}
		if w.Format == policy.FormatGitHub {
			for _, c := range cs {
				g := d
				g.ID, g.Event = NewID(), policy.EventPush
				g.Body, _ = json.Marshal(githubBody(p, pusher, c))
				out = append(out, g)
			}
			continue
		}
		d.ID = NewID()
		d.Body, _ = json.Marshal(Body{Events: want, Repository: p.Repo, Pusher: pusher, Refs: cs, Time: p.At.UTC()})
		out = append(out, d)
	}
	return out
}

// githubBody is GitHub's push payload for one ref, the fields CI tools
// read.
func githubBody(p *Push, who Pusher, c RefChange) map[string]any {
	name := p.Repo
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	commits := make([]map[string]any, 0, len(c.Commits))
	for _, m := range c.Commits {
		commits = append(commits, map[string]any{"id": m.ID, "message": m.Message, "timestamp": m.Timestamp,
			"author": map[string]string{"name": m.Author, "email": m.Email}})
	}
	body := map[string]any{
		"ref": c.Ref, "before": c.Before, "after": c.After,
		"created": c.Kind == "create", "deleted": c.Kind == "delete", "forced": c.Kind == "force",
		"repository": map[string]any{"name": name, "full_name": p.Repo},
		"pusher":     map[string]string{"name": who.User},
		"sender":     map[string]string{"login": who.User},
		"commits":    commits,
	}
	if len(commits) > 0 {
		body["head_commit"] = commits[0]
	}
	return body
}
