package filedriver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/policy"
	"github.com/gitserver/gitserver/shim"
)

// TestPolicyOutline runs each request in a driver of its own, as sshd's
// forced command does, over one data directory and a policy of many
// literal rules: the first parses the whole file and records its
// outline, the next ones cut it to the rules of their repository and
// decide as the whole file does; an edit is seen at once, one that does
// not parse denies, and a record of another document or build, or a
// damaged one, is not used.
func TestPolicyOutline(t *testing.T) {
	dir := t.TempDir()
	cfg := shim.DriverConfig{Repos: filepath.Join(dir, "repos"), DataDir: dir, Policy: filepath.Join(dir, "policy.toml")}
	record := filepath.Join(dir, OutlineName(cfg.Policy))
	big := func(users string) string { // 200 rules of other repositories, then team/app's
		var b strings.Builder
		for i := range 200 {
			fmt.Fprintf(&b, "[[rule]]\nrepos = [\"other/r%d\"]\nusers = [\"alice\"]\naccess = \"write\"\n\n", i)
		}
		return b.String() + readPolicy(users)
	}
	write := func(file, s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		what       string
		edit       func()
		user, repo string
		allow      bool
		rule       string // the deciding rule, as the log gives it
		cut, err   bool
	}{
		{"the first request", func() { write(cfg.Policy, big(`["alice"]`)) }, "alice", "team/app", true, ":1001", false, false},
		{"the next one", func() {}, "alice", "team/app.git", true, ":1001", true, false},
		{"another repository", func() {}, "alice", "other/r5", true, ":26", true, false},
		{"no rule for it", func() {}, "bob", "other/r5", false, "no rule matched", true, false},
		{"an edit", func() { write(cfg.Policy, big(`["bob"]`)) }, "alice", "team/app", false, "no rule matched", false, false},
		{"after the edit", func() {}, "bob", "team/app", true, ":1001", true, false},
		{"a policy that does not parse", func() { write(cfg.Policy, big(`"alice"`)) }, "alice", "team/app", false, "", false, true},
		{"still", func() {}, "alice", "other/r5", false, "", false, true},
		{"fixed", func() { write(cfg.Policy, big(`["alice"]`)) }, "alice", "team/app", true, ":1001", false, false},
		{"a record of another build", func() {
			data, _ := os.ReadFile(record)
			write(record, strings.Replace(string(data), "\nbuild ", "\nbuild x", 1))
		}, "alice", "team/app", true, ":1001", false, false},
		{"rewritten", func() {}, "alice", "team/app", true, ":1001", true, false},
		{"a damaged record", func() {
			data, _ := os.ReadFile(record)
			write(record, string(data[:len(data)-10]))
		}, "alice", "team/app", true, ":1001", false, false},
		{"rewritten again", func() {}, "alice", "team/app", true, ":1001", true, false},
	}
	for _, s := range steps {
		s.edit()
		d := New(cfg)
		dec, err := d.Authorize(context.Background(), userModel(s.user), shim.UploadPack, s.repo)
		cut := d.policy.cut.Load() != nil
		if dec.Allow != s.allow || (err != nil) != s.err || cut != s.cut || !strings.HasSuffix(dec.Rule, s.rule) {
			t.Errorf("%s: %s %s: allow %v by %q, error %v, cut %v; want %v by %q, error %v, cut %v",
				s.what, s.user, s.repo, dec.Allow, dec.Rule, err, cut, s.allow, s.rule, s.err, s.cut)
		}
	}
}

// TestPolicyOutlineSmall checks that a small policy is parsed whole, with
// no record.
func TestPolicyOutlineSmall(t *testing.T) {
	f := newFixture(t, readPolicy(`["alice"]`))
	for range 2 {
		if ok, err := f.allowed("alice", "team/app"); !ok || err != nil {
			t.Fatalf("alice: %v, %v", ok, err)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.policy), OutlineName(f.policy))); !os.IsNotExist(err) {
		t.Errorf("a record for a small policy: %v", err)
	}
}

// TestPolicyOutlineSecondRepository checks that a driver asked about a
// second repository (a long-lived one: serve) parses the whole file, and
// from then on only stats it.
func TestPolicyOutlineSecondRepository(t *testing.T) {
	var pol strings.Builder
	for i := range 150 {
		fmt.Fprintf(&pol, "[[rule]]\nrepos = [\"other/r%d\"]\nusers = [\"alice\"]\naccess = \"write\"\n\n", i)
	}
	pol.WriteString(readPolicy(`["alice"]`) + "\n[[rule]]\nrepos = [\"team/lib\"]\nusers = [\"bob\"]\naccess = \"read\"\n")
	f := newFixture(t, pol.String())
	cfg := shim.DriverConfig{Repos: f.repos, DataDir: filepath.Dir(f.policy), Policy: f.policy}
	if _, err := New(cfg).Authorize(context.Background(), userModel("alice"), shim.UploadPack, "team/app"); err != nil {
		t.Fatal(err) // an earlier process, which records the outline
	}
	for i, r := range []struct {
		user, repo string
		allow      bool
	}{{"alice", "team/app", true}, {"bob", "team/lib", true}, {"alice", "team/lib", false}, {"alice", "other/r7", true}} {
		if ok, err := f.allowed(r.user, r.repo); ok != r.allow || err != nil {
			t.Errorf("%s %s: %v, %v; want %v", r.user, r.repo, ok, err, r.allow)
		}
		if whole := f.drv.policy.cur.Load() != nil; whole != (i > 0) {
			t.Errorf("after %s %s: whole policy parsed %v", r.user, r.repo, whole)
		}
	}
}

// TestOutlineRecord writes and reads records: names are compared whole,
// whatever they hold, and a record altered in any byte, or of another
// document, is refused.
func TestOutlineRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r")
	names := []string{"team/app", "a b", "tab\there", `q"uote`, "é/ü", "team/app2"}
	o := policy.Outline{Rules: []policy.Span{{Start: 0, End: 10, Names: names[:3]}, {Start: 10, End: 20, Names: names[3:]}}}
	rec := encodeOutline("D", o)
	if err := os.WriteFile(path, rec, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, n := range append(names, "team", "a", "nowhere") {
		got, err := readOutline(path, "D", n)
		if err != nil {
			t.Fatalf("%q: %v", n, err)
		}
		var kept, want []int
		for i := range o.Rules {
			if len(got.Rules[i].Names) > 0 {
				kept = append(kept, i)
			}
			if slices.Contains(o.Rules[i].Names, n) {
				want = append(want, i)
			}
		}
		if len(got.Rules) != len(o.Rules) || !slices.Equal(kept, want) {
			t.Errorf("%q: %d spans, those naming it %v; want %d, %v", n, len(got.Rules), kept, len(o.Rules), want)
		}
	}
	if _, err := readOutline(path, "E", "team/app"); err == nil {
		t.Error("a record of another document was read")
	}
	for i := range rec {
		bad := bytes.Clone(rec)
		bad[i] ^= 1
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readOutline(path, "D", "team/app"); err == nil {
			t.Fatalf("a record altered at byte %d was read", i)
		}
	}
}
