package gitolite

import (
	"os"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/policy"
)

func TestTranslateAgreesWithGitolite(t *testing.T) {
	f, err := os.Open("testdata/gitolite.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Translate(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse("translated", strings.NewReader(res.Policy))
	if err != nil {
		t.Fatalf("policy.Parse: %v\n%s", err, res.Policy)
	}
	const (
		read   = policy.RefOp(0) // a whole-repository read
		push   = policy.RefOp(100)
		ff     = policy.RefFastForward
		create = policy.RefCreate
		rewind = policy.RefRewind
		delete = policy.RefDelete
		// Any change to an existing tag, fast-forward or not: the hook
		// classifies it a rewind, as gitolite does ("+").
		tagmove = policy.RefRewind
		mkrepo  = policy.RefOp(101) // create the repository by pushing
	)
	// Answers per gitolite's documented rules.
	for _, tt := range []struct {
		user, repo, creator, ref string
		op                       policy.RefOp
		want                     bool
	}{
		{"root", "gitolite-admin", "", "", read, true},
		{"root", "gitolite-admin", "", "refs/heads/master", rewind, true},
		{"alice", "gitolite-admin", "", "", read, false},
		{"carol", "tools", "", "", read, true},
		{"carol", "tools", "", "", push, false},
		{"alice", "tools", "", "", push, true},
		{"alice", "tools", "", "refs/heads/main", ff, true},
		{"alice", "tools", "", "refs/heads/main", rewind, false},
		{"bob", "foo", "", "", read, true},
		{"bob", "foo", "", "", push, true},
		{"bob", "foo", "", "refs/heads/master", ff, false},
		{"bob", "foo", "", "refs/heads/dev", ff, true},
		{"bob", "foo", "", "refs/heads/dev", rewind, false},
		{"alice", "foo", "", "refs/heads/master", rewind, true},
		{"carol", "foo", "", "", read, true},
		{"carol", "foo", "", "", push, false},
		{"carol", "foo", "", "refs/heads/x", create, false},
		{"bob", "bar", "", "refs/heads/master", ff, true},
		{"bob", "bar", "", "refs/heads/master-old", create, true}, // refexes are prefixes
		{"bob", "bar", "", "refs/heads/feature", create, false},
		{"bob", "bar", "", "refs/tags/v1", create, false},
		{"alice", "bar", "", "refs/tags/v1", create, true},
		{"alice", "bar", "", "refs/tags/v1", delete, true},
		{"alice", "bar", "", "refs/heads/master", ff, false},
		{"alice", "bar", "", "", push, true},
		{"dave", "bar", "", "", read, true},
		{"dave", "bar", "", "", push, false},
		{"alice", "users/alice/p", "alice", "", read, true},
		{"alice", "users/alice/p", "alice", "refs/heads/main", rewind, true},
		{"bob", "users/alice/p", "alice", "", read, true},
		{"bob", "users/alice/p", "alice", "", push, false},
		{"carol", "users/alice/p", "alice", "", read, false},
		{"carol", "users/carol/new", "carol", "", mkrepo, true},
		{"carol", "users/alice/new", "carol", "", mkrepo, false},
		{"alice", "baz", "", "refs/heads/main", ff, true},
		{"alice", "baz", "", "refs/heads/main", rewind, false},
		// RWD: R, W, and deletes as their own right (VREF line skipped).
		{"alice", "qux", "", "", read, true},
		{"alice", "qux", "", "refs/heads/x", delete, true},
		{"alice", "qux", "", "refs/heads/x", rewind, false},
		// deny-rules: the "-" refuses alice baz... after RW granted read.
		{"alice", "baz", "", "", read, true},
		{"alice", "baz", "", "", policy.RefOp(102), false}, // force
		// RW then "-" then RW+: the RW is passed over for a rewind.
		{"bob", "foo", "", "refs/heads/dev", create, true},
		// Tags: RW creates them, only RW+ moves or deletes them.
		{"bob", "rel", "", "refs/tags/v1", create, true},
		{"bob", "rel", "", "refs/tags/v1", tagmove, false},
		{"bob", "rel", "", "refs/tags/v1", delete, false},
		{"bob", "rel", "", "refs/tags/x1", create, false},
		{"bob", "rel", "", "refs/heads/master", ff, true},
		{"alice", "rel", "", "refs/tags/v1", create, true},
		{"alice", "rel", "", "refs/tags/v1", tagmove, true},
		{"alice", "rel", "", "refs/tags/x1", delete, true},
		{"alice", "rel", "", "refs/heads/master", ff, false},
		{"alice", "nothere", "", "", read, false},
		// USER in a refex is the pushing user's name (personal branches).
		{"bob", "personal", "", "refs/heads/bob/x", create, true},
		{"bob", "personal", "", "refs/heads/alice/x", create, false},
		{"bob", "personal", "", "refs/heads/bob/x", rewind, false},
		{"carol", "personal", "", "refs/heads/carol/x", rewind, true},
		{"carol", "personal", "", "refs/heads/bob/x", create, false},
		{"carol", "personal", "", "refs/heads/USER/x", create, false},
		{"dave", "personal", "", "refs/heads/dave/x", create, false},
	} {
		q := policy.Request{User: tt.user, Repo: tt.repo, Creator: tt.creator, Ref: tt.ref}
		switch tt.op {
		case read:
			q.Want = policy.Read
		case push:
			q.Want = policy.Write
		case mkrepo:
			q.Want = policy.Create
		case 102:
			q.Want = policy.Force
		default:
			q.Op = tt.op
		}
		if got := pol.Check(q); got.Allow != tt.want {
			t.Errorf("%s %s %s %v (creator %q): %v, want allow=%v", tt.user, tt.repo, tt.ref, q.Want, tt.creator, got, tt.want)
		}
	}
	warns := ""
	for _, w := range res.Warnings {
		warns += w.String() + "\n"
	}
	for _, want := range []string{"line 34: config", "VREF", "include"} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings lack %q:\n%s", want, warns)
		}
	}
	for _, unwanted := range []string{"deny-rules", "RWD", "line 30:"} {
		if strings.Contains(warns, unwanted) {
			t.Errorf("warnings hold %q, which is translated now:\n%s", unwanted, warns)
		}
	}
	if t.Failed() {
		t.Logf("warnings:\n%s\npolicy:\n%s", warns, res.Policy)
	}
}

func TestUserFromKeyFile(t *testing.T) {
	for in, want := range map[string]string{
		"alice.pub":              "alice",
		"keydir/x/y/alice.pub":   "alice",
		"alice@laptop.pub":       "alice",
		"alice@example.com.pub":  "alice@example.com",
		"bob@example.com@pc.pub": "bob@example.com",
		"notakey.txt":            "",
	} {
		got, ok := UserFromKeyFile(in)
		if got != want || ok != (want != "") {
			t.Errorf("UserFromKeyFile(%q) = %q, %v, want %q", in, got, ok, want)
		}
	}
}

func FuzzTranslate(f *testing.F) {
	data, err := os.ReadFile("testdata/gitolite.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(data))
	f.Add("repo a\n RW+ = b\n")
	f.Fuzz(func(t *testing.T, s string) {
		// Translate checks that its output parses; an error here is a
		// conf it refuses, never a policy it would write.
		res, err := Translate(strings.NewReader(s), Options{})
		if err != nil && strings.Contains(err.Error(), "a bug") {
			t.Fatal(err)
		}
		if err == nil && res.Policy == "" {
			t.Fatal("no error and no policy")
		}
	})
}

// TestTranslateTooLarge: a conf or a line over the limit is an error
// naming the limit, never a policy translated from what fit.
func TestTranslateTooLarge(t *testing.T) {
	rules := "repo a\n    RW+ = alice\n"
	for _, tt := range []struct {
		name, in, want string
	}{
		{"file", rules + strings.Repeat("#\n", maxConf/2), "gitolite: input is larger than 4 MiB"},
		{"line", rules + "# " + strings.Repeat("x", maxConfLine) + "\nrepo b\n", "gitolite: line 3 is longer than 64 KiB"},
	} {
		if res, err := Translate(strings.NewReader(tt.in), Options{}); err == nil || err.Error() != tt.want {
			t.Errorf("Translate(%s too large) = %v, %v; want error %s", tt.name, res, err, tt.want)
		}
	}
	fits := rules + strings.Repeat("#\n", (maxConf-len(rules))/2)
	if _, err := Translate(strings.NewReader(fits), Options{}); err != nil {
		t.Errorf("Translate(%d bytes) = %v, want success", len(fits), err)
	}
}

func TestRolesFromRC(t *testing.T) {
	rc := `%RC = (
    UMASK => 0077,
    # ROLES => { NOTME => 1 },
    ROLES => {
        READERS                     =>  1,
        WRITERS                     =>  1,
        'MANAGERS' => 1,   # ours
    },
    ENABLE => [ 'help', 'perms' ],
);
`
	got, err := RolesFromRC(strings.NewReader(rc))
	if err != nil || strings.Join(got, " ") != "READERS WRITERS MANAGERS" {
		t.Errorf("RolesFromRC = %q, %v", got, err)
	}
	if got, err := RolesFromRC(strings.NewReader("%RC = ();\n")); err != nil || strings.Join(got, " ") != "READERS WRITERS" {
		t.Errorf("RolesFromRC(no ROLES) = %q, %v", got, err)
	}
	if _, err := RolesFromRC(strings.NewReader("ROLES => { READERS => 0, }\n")); err == nil {
		t.Errorf("RolesFromRC accepted READERS => 0")
	}
}
