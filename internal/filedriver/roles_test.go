package filedriver

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestRoleMembers(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	dir := filepath.Join(t.TempDir(), "r.git")
	if out, err := exec.Command(git, "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	ctx := context.Background()
	for _, m := range [][2]string{{"READERS", "bob"}, {"READERS", "@devs"}, {"WRITERS", "carol"}, {"READERS", "bob"}} {
		if err := AddRoleMember(ctx, git, dir, m[0], m[1]); err != nil {
			t.Fatalf("AddRoleMember(%s %s): %v", m[0], m[1], err)
		}
	}
	meta, err := ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(meta.Roles["READERS"], []string{"bob", "@devs"}) || !slices.Equal(meta.Roles["WRITERS"], []string{"carol"}) {
		t.Fatalf("roles = %v", meta.Roles)
	}
	if err := RemoveRoleMember(ctx, git, dir, "READERS", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRoleMember(ctx, git, dir, "READERS", "bob"); !errors.Is(err, ErrNotMember) {
		t.Fatalf("second remove = %v, want ErrNotMember", err)
	}
	// The value is matched whole, not as a regex: "c.rol" removes nothing.
	if err := RemoveRoleMember(ctx, git, dir, "WRITERS", "c.rol"); !errors.Is(err, ErrNotMember) {
		t.Fatalf("remove c.rol = %v, want ErrNotMember", err)
	}
	for _, bad := range [][2]string{{"READ ERS", "bob"}, {"READERS", "bob carol"}, {"READERS", "../x"}, {"READERS", ""}} {
		if err := AddRoleMember(ctx, git, dir, bad[0], bad[1]); err == nil {
			t.Errorf("AddRoleMember(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	meta, _ = ReadMeta(dir)
	if !slices.Equal(meta.Roles["READERS"], []string{"@devs"}) {
		t.Fatalf("roles after removal = %v", meta.Roles)
	}
	// A value git accepts but gitserver did not write is an error, never
	// a partial list.
	if out, err := exec.Command(git, "config", "--file", filepath.Join(dir, "config"), "--add", RoleKey, "READERS").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := ReadMeta(dir); err == nil {
		t.Fatalf("ReadMeta accepted a role value without a member")
	}
}
