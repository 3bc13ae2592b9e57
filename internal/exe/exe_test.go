package exe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dir makes a directory of mode perm inside the test's temporary one.
func dir(t *testing.T, parent, name string, perm os.FileMode) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, perm); err != nil {
		t.Fatal(err)
	}
	return d
}

func program(t *testing.T, d string, perm os.FileMode) string {
	t.Helper()
	p := filepath.Join(d, "prog")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

// safeBase is a directory the checks accept, to test in: the test's own
// temporary directory when nobody else can write above it (a private
// TMPDIR), else a new one in the module (a checkout outside /tmp) or, as
// root, in /usr/local/libexec, as package sshdtest does.
func safeBase(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	if Check(program(t, base, 0o755)) == nil {
		return base
	}
	wd, _ := os.Getwd()
	candidates := []string{wd}
	if os.Geteuid() == 0 {
		candidates = append(candidates, "/usr/local/libexec")
	}
	for _, c := range candidates {
		if os.MkdirAll(c, 0o755) != nil {
			continue
		}
		d, err := os.MkdirTemp(c, ".exe-test-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if os.Chmod(d, 0o755) == nil && Check(program(t, d, 0o755)) == nil {
			return d
		}
	}
	t.Skip("no directory here that only this user or root can write: run as root, or with a private TMPDIR")
	return ""
}

func TestCheck(t *testing.T) {
	base := safeBase(t)
	open := dir(t, base, "open", 0o777)
	closed := dir(t, base, "closed", 0o755)
	link := filepath.Join(closed, "link")
	if err := os.Symlink(program(t, open, 0o755), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, where, reason string
	}{
		{program(t, dir(t, base, "ok", 0o755), 0o755), "", ""},
		{"prog", "", "is not an absolute path"},
		{filepath.Join(closed, "missing"), "", "cannot be resolved"},
		{program(t, dir(t, base, "noexec", 0o755), 0o644), "noexec/prog", "is not an executable file"},
		{program(t, dir(t, base, "gw", 0o755), 0o775), "gw/prog", "has mode 0775: group or others can write it"},
		{filepath.Join(open, "prog"), "open", "has mode 0777"},
		{link, "open", "has mode 0777"}, // the checks follow the link
	} {
		err := Check(tt.path)
		if tt.reason == "" {
			if err != nil {
				t.Errorf("Check(%s) = %v, want nil", tt.path, err)
			}
			continue
		}
		var ue *UnsafeError
		if !errors.As(err, &ue) || !strings.Contains(ue.Reason, tt.reason) || !strings.HasSuffix(ue.Where, tt.where) || ue.Path != tt.path {
			t.Errorf("Check(%s) = %#v, want an *UnsafeError at %q saying %q", tt.path, err, tt.where, tt.reason)
		}
	}
}

// TestCheckForSSHD: sshd wants root's files all the way up; Check also
// accepts the running user's.
func TestCheckForSSHD(t *testing.T) {
	p := program(t, dir(t, safeBase(t), "ok", 0o755), 0o755)
	err := CheckForSSHD(p)
	if os.Geteuid() == 0 {
		if err != nil {
			t.Errorf("as root, CheckForSSHD(%s) = %v, want nil", p, err)
		}
		if err := os.Chown(p, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := CheckForSSHD(p); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534, not root") {
			t.Errorf("CheckForSSHD(nobody's file) = %v, want a refusal naming the owner", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "not root") {
		t.Errorf("CheckForSSHD(%s, a file of uid %d) = %v, want a refusal: sshd wants root's", p, os.Geteuid(), err)
	}
	if err := Check(p); err != nil {
		t.Errorf("Check(own file) = %v, want nil", err)
	}
}

func TestSelfAndBeside(t *testing.T) {
	self, err := Self()
	if err != nil || !filepath.IsAbs(self) {
		t.Fatalf("Self() = %q, %v", self, err)
	}
	b, err := Beside("helper")
	if err != nil || b != filepath.Join(filepath.Dir(self), "helper") {
		t.Errorf("Beside(helper) = %q, %v", b, err)
	}
}
