package policy

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"time"
)

// The webhook events.
const (
	EventPush       = "push"        // any push that updated refs
	EventRefCreate  = "ref_create"  // a push that created a ref
	EventRefDelete  = "ref_delete"  // a push that deleted a ref
	EventTag        = "tag"         // a push that created, moved or deleted a tag
	EventRepoCreate = "repo_create" // a push that created the repository
)

var events = []string{EventPush, EventRefCreate, EventRefDelete, EventTag, EventRepoCreate}

// Webhook formats.
const (
	FormatGitserver = "gitserver" // one delivery per push, every ref update in it
	FormatGitHub    = "github"    // GitHub's push payload, one delivery per ref
)

// Bounds on a webhook.
const (
	DefaultWebhookTimeout = 10 * time.Second
	MaxWebhookTimeout     = time.Minute
	maxWebhooks           = 100
)

// webhookDoc is a [[webhook]] table.
type webhookDoc struct {
	URL          *string  `toml:"url"`
	SecretFile   *string  `toml:"secret_file"`
	Events       []string `toml:"events"`
	Repos        []string `toml:"repos"`
	Refs         []string `toml:"refs"`
	Timeout      *string  `toml:"timeout"`
	Format       *string  `toml:"format"`
	AllowPrivate bool     `toml:"allow_private"`
}

// Webhook is a checked [[webhook]]: where to send which pushes.
type Webhook struct {
	URL          string
	SecretFile   string // absolute; its content signs each body
	Events       []string
	Timeout      time.Duration
	Format       string // FormatGitserver or FormatGitHub
	AllowPrivate bool   // loopback and private addresses allowed
	Line         int    // where it is in the file, e.g. for logs
	repos, refs  []*Glob
}

// Webhooks are the policy's webhooks, in file order.
func (p *Policy) Webhooks() []*Webhook { return p.webhooks }

// Wants reports whether w takes event for the repository.
func (w *Webhook) Wants(event, repo string) bool {
	return slices.Contains(w.Events, event) && matchAny(w.repos, repo)
}

// HasWebhook reports whether any of p's webhooks takes any event for the
// repository: whether a push to it may have deliveries to queue.
func (p *Policy) HasWebhook(repo string) bool {
	for _, w := range p.webhooks {
		if matchAny(w.repos, repo) {
			return true
		}
	}
	return false
}

// WantsRef reports whether a ref update concerns w: every ref when it
// names none.
func (w *Webhook) WantsRef(ref string) bool {
	return len(w.refs) == 0 || matchAny(w.refs, ref)
}

func matchAny(gs []*Glob, s string) bool {
	for _, g := range gs {
		if g.Match(s) {
			return true
		}
	}
	return false
}

func (b *builder) webhook(d *webhookDoc, line int) (*Webhook, error) {
	bad := func(format string, args ...any) (*Webhook, error) {
		return nil, errorAt(b.ix.file, line, "webhook: "+format, args...)
	}
	if d.URL == nil {
		return bad("url is missing")
	}
	u, err := url.Parse(*d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return bad("url %q is not an http:// or https:// URL without a password", *d.URL)
	}
	w := &Webhook{URL: *d.URL, Events: d.Events, Timeout: DefaultWebhookTimeout, Format: FormatGitserver, AllowPrivate: d.AllowPrivate, Line: line}
	if d.SecretFile == nil || !filepath.IsAbs(*d.SecretFile) {
		return bad("secret_file must be an absolute path (its content signs every delivery)")
	}
	w.SecretFile = *d.SecretFile
	if len(w.Events) == 0 {
		w.Events = []string{EventPush}
	}
	for _, e := range w.Events {
		if !slices.Contains(events, e) {
			return bad("unknown event %q (want %v)", e, events)
		}
	}
	if d.Timeout != nil {
		if w.Timeout, err = time.ParseDuration(*d.Timeout); err != nil || w.Timeout <= 0 || w.Timeout > MaxWebhookTimeout {
			return bad("timeout %q is not a duration up to %v, such as \"10s\"", *d.Timeout, MaxWebhookTimeout)
		}
	}
	if d.Format != nil {
		if *d.Format != FormatGitserver && *d.Format != FormatGitHub {
			return bad("format %q is not gitserver or github", *d.Format)
		}
		w.Format = *d.Format
	}
	repos := d.Repos
	if len(repos) == 0 {
		repos = []string{"**"}
	}
	for _, lists := range []struct {
		in  []string
		out *[]*Glob
	}{{repos, &w.repos}, {d.Refs, &w.refs}} {
		for _, s := range lists.in {
			g, err := CompileGlob(s)
			if err != nil {
				return bad("pattern %q: %v", s, err)
			}
			*lists.out = append(*lists.out, g)
		}
	}
	return w, nil
}

func (b *builder) webhooks(docs []webhookDoc) error {
	if len(docs) > maxWebhooks {
		return errorAt(b.ix.file, 0, "more than %d webhooks", maxWebhooks)
	}
	for i := range docs {
		w, err := b.webhook(&docs[i], b.ix.webhookLine(i))
		if err != nil {
			return err
		}
		b.p.webhooks = append(b.p.webhooks, w)
	}
	return nil
}

// String names the webhook for logs: its URL and line.
func (w *Webhook) String() string { return fmt.Sprintf("%s (policy line %d)", w.URL, w.Line) }
