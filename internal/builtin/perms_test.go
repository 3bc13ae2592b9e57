package builtin

import (
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/filedriver"
)

const rolesPolicy = `
roles = ["READERS", "WRITERS"]

[[rule]]
repos  = ["**"]
users  = ["root"]
access = "admin"

[[rule]]
repos  = ["users/{user}/*"]
users  = ["@all"]
access = "create"

[[rule]]
repos  = ["users/*/*"]
users  = ["role:WRITERS"]
access = "write"

[[rule]]
repos  = ["users/*/*"]
users  = ["role:READERS"]
access = "read"
`

// newPermsFixture is a fixture with rolesPolicy in which bob created
// users/bob/y.
func newPermsFixture(t *testing.T) *fixture {
	t.Helper()
	f := newPolicyFixture(t, rolesPolicy)
	f.gitConfig("users/bob/y", filedriver.CreatorKey, "bob")
	return f
}

// gitConfig sets key to value in the config of repo.
func (f *fixture) gitConfig(repo string, args ...string) {
	f.t.Helper()
	cfg := filepath.Join(f.root, repo+".git", "config")
	if out, err := exec.Command("git", append([]string{"config", "--file", cfg}, args...)...).CombinedOutput(); err != nil {
		f.t.Fatalf("git config %v: %v\n%s", args, err, out)
	}
}

// roles returns the role members recorded in repo.
func (f *fixture) roles(repo string) map[string][]string {
	f.t.Helper()
	m, err := filedriver.ReadMeta(filepath.Join(f.root, repo+".git"))
	if err != nil {
		f.t.Fatal(err)
	}
	return m.Roles
}

// TestPermsWho: the creator and an admin may; anyone else gets the same
// answer as for a repository that does not exist, and changes nothing.
func TestPermsWho(t *testing.T) {
	f := newPermsFixture(t)
	for _, tt := range []struct {
		user, cmd string
		code      int
		stdout    string
		stderr    string
	}{
		{"bob", "perms users/bob/y + READERS alice", 0, "users/bob/y: + READERS alice\n", ""},
		{"root", "perms users/bob/y + WRITERS @all", 0, "users/bob/y: + WRITERS @all\n", ""},
		{"root", "perms team/app + READERS bob", 0, "team/app: + READERS bob\n", ""},
		{"alice", "perms users/bob/y -l", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms users/bob/y -lr", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms users/bob/y + READERS carol", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms users/bob/y - READERS alice", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms users/bob/missing -l", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms users/alice/missing + READERS bob", 1, "", MsgPermsDenied + "\n"},
		{"alice", "perms team/app -l", 1, "", MsgPermsDenied + "\n"},
		{"root", "perms team/missing -l", 1, "", MsgPermsDenied + "\n"},
		{"bob", "perms team/app -l", 1, "", MsgPermsDenied + "\n"},
	} {
		out, errOut, code := f.run(tt.user, tt.cmd, "")
		if code != tt.code || out != tt.stdout || errOut != tt.stderr {
			t.Errorf("%s: %s = %d, %q, %q; want %d, %q, %q", tt.user, tt.cmd, code, out, errOut, tt.code, tt.stdout, tt.stderr)
		}
	}
	want := map[string][]string{"READERS": {"alice"}, "WRITERS": {"@all"}}
	if got := f.roles("users/bob/y"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("users/bob/y roles = %v, want %v", got, want)
	}
}

// TestPermsListAndChange: list output, roles the policy lacks, a member
// not there, a member already there, a member without a key.
func TestPermsListAndChange(t *testing.T) {
	f := newPermsFixture(t)
	for _, c := range []string{"+ WRITERS carol", "+ READERS alice", "+ READERS @all", "+ WRITERS alice"} {
		if _, errOut, code := f.run("bob", "perms users/bob/y "+c, ""); code != 0 {
			t.Fatalf("perms users/bob/y %s = %d %q", c, code, errOut)
		}
	}
	// A role left over from an older policy is listed last; Check ignores it.
	f.gitConfig("users/bob/y", "--add", filedriver.RoleKey, "OLD dave")
	wantList := "READERS alice\nREADERS @all\nWRITERS carol\nWRITERS alice\nOLD dave\n"
	for _, cmd := range []string{"perms users/bob/y", "perms users/bob/y -l"} {
		if out, errOut, code := f.run("bob", cmd, ""); code != 0 || out != wantList || errOut != "" {
			t.Errorf("%s = %d, %q, %q; want %q", cmd, code, out, errOut, wantList)
		}
	}
	if out, _, code := f.run("bob", "perms users/bob/y -lr", ""); code != 0 || out != "READERS\nWRITERS\n" {
		t.Errorf("perms -lr = %d %q", code, out)
	}
	for _, tt := range []struct {
		cmd    string
		code   int
		stdout string
		stderr string
	}{
		{"perms users/bob/y + READER alice", 1, "", "gitserver: unknown role \"READER\"; roles here: READERS, WRITERS\n"},
		{"perms users/bob/y - OLD dave", 1, "", "gitserver: unknown role \"OLD\"; roles here: READERS, WRITERS\n"},
		{"perms users/bob/y - WRITERS erin", 1, "", "gitserver: erin is not in role WRITERS here\n"},
		{"perms users/bob/y - WRITERS carol", 0, "users/bob/y: - WRITERS carol\n", ""},
		{"perms users/bob/y - WRITERS carol", 1, "", "gitserver: carol is not in role WRITERS here\n"},
		{"perms users/bob/y + READERS alice", 0, "users/bob/y: READERS alice was already there\n", ""},
		{"perms users/bob/y + READERS erin", 0, "users/bob/y: + READERS erin\n", "gitserver: note: erin has no key here yet; the role applies once they have one\n"},
		{"perms users/bob/y + READERS @nogroup", 0, "users/bob/y: + READERS @nogroup\n", ""},
	} {
		out, errOut, code := f.run("bob", tt.cmd, "")
		if code != tt.code || out != tt.stdout || errOut != tt.stderr {
			t.Errorf("%s = %d, %q, %q; want %d, %q, %q", tt.cmd, code, out, errOut, tt.code, tt.stdout, tt.stderr)
		}
	}
	want := map[string][]string{"READERS": {"alice", "@all", "erin", "@nogroup"}, "WRITERS": {"alice"}, "OLD": {"dave"}}
	if got := f.roles("users/bob/y"); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("roles = %v, want %v", got, want)
	}
}

// TestPermsNoRoles: with a policy that declares no roles, perms lists
// (nothing) but adds nobody.
func TestPermsNoRoles(t *testing.T) {
	f := newFixture(t)
	if out, errOut, code := f.run("root", "perms team/app", ""); code != 0 || out != "" || errOut != "" {
		t.Errorf("perms team/app = %d %q %q", code, out, errOut)
	}
	if _, errOut, code := f.run("root", "perms team/app -lr", ""); code != 0 || !strings.Contains(errOut, "declares no roles") {
		t.Errorf("perms team/app -lr = %d %q", code, errOut)
	}
	_, errOut, code := f.run("root", "perms team/app + READERS bob", "")
	if code != 1 || errOut != "gitserver: unknown role \"READERS\"; this server declares no roles\n" {
		t.Errorf("perms + READERS without roles = %d %q", code, errOut)
	}
}
