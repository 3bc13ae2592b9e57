package policy

import (
	"strings"
	"testing"
	"time"
)

func TestWebhooks(t *testing.T) {
	p, err := Parse("policy.toml", strings.NewReader(`
[[webhook]]
url         = "https://ci.example.com/hook"
secret_file = "/etc/gitserver/ci.secret"
events      = ["push", "tag"]
repos       = ["team/*"]
refs        = ["refs/heads/main", "refs/tags/**"]
timeout     = "5s"
format      = "github"

[[webhook]]
url           = "http://10.0.0.5:8080/"
secret_file   = "/etc/gitserver/b.secret"
allow_private = true
`))
	if err != nil {
		t.Fatal(err)
	}
	ws := p.Webhooks()
	if len(ws) != 2 {
		t.Fatalf("%d webhooks", len(ws))
	}
	a, b := ws[0], ws[1]
	if a.Timeout != 5*time.Second || a.Format != FormatGitHub || a.Line != 2 || !a.Wants(EventTag, "team/app") || a.Wants(EventPush, "other/app") ||
		a.Wants(EventRefCreate, "team/app") || !a.WantsRef("refs/tags/v1") || a.WantsRef("refs/heads/dev") {
		t.Errorf("first webhook: %+v", a)
	}
	if b.Format != FormatGitserver || b.Timeout != DefaultWebhookTimeout || !b.AllowPrivate || !b.Wants(EventPush, "any/repo") || b.Wants(EventTag, "x") || !b.WantsRef("refs/heads/x") {
		t.Errorf("second webhook: %+v", b)
	}
	for _, bad := range []string{
		"[[webhook]]\nsecret_file = \"/s\"\n",
		"[[webhook]]\nurl = \"ftp://x/\"\nsecret_file = \"/s\"\n",
		"[[webhook]]\nurl = \"https://u:p@x/\"\nsecret_file = \"/s\"\n",
		"[[webhook]]\nurl = \"https://x/\"\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"rel\"\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"/s\"\nevents = [\"pull\"]\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"/s\"\ntimeout = \"2h\"\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"/s\"\nformat = \"gitlab\"\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"/s\"\nsecret = \"x\"\n",
		"[[webhook]]\nurl = \"https://x/\"\nsecret_file = \"/s\"\nrepos = [\"{user}/x\"]\n",
	} {
		if _, err := Parse("p.toml", strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		} else if !strings.Contains(err.Error(), "p.toml:") {
			t.Errorf("Parse(%q) error without a line: %v", bad, err)
		}
	}
}

// TestHasWebhook: a push needs the post-receive that queues deliveries
// only to a repository some webhook names, whatever its events.
func TestHasWebhook(t *testing.T) {
	p, err := Parse("policy.toml", strings.NewReader(`
[[webhook]]
url         = "https://ci.example.com/hook"
secret_file = "/etc/gitserver/ci.secret"
events      = ["repo_create"]
repos       = ["team/*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasWebhook("team/app") || p.HasWebhook("other/app") || p.HasWebhook("team/a/b") {
		t.Errorf("HasWebhook: team/app %v, other/app %v, team/a/b %v; want true, false, false",
			p.HasWebhook("team/app"), p.HasWebhook("other/app"), p.HasWebhook("team/a/b"))
	}
	none, err := Parse("policy.toml", strings.NewReader("[groups]\nadmins = [\"alice\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if none.HasWebhook("team/app") {
		t.Error("a policy without webhooks has one")
	}
}
