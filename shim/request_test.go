package shim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tableDriver is a driver from a table, for testing the shim's own checks:
// it allows what allow says and maps names to dirs, or to where repoPath
// says.
type tableDriver struct {
	root     string
	allow    map[string]bool // "user verb path"
	repoPath map[string]string
}

func (d *tableDriver) Authenticate(context.Context, Credentials) (string, error) {
	return "", ErrUnknownKey
}

func (d *tableDriver) GetUserModel(_ context.Context, user string) (UserModel, error) {
	if user == "nobody" {
		return nil, ErrUnknownUser
	}
	return user, nil
}

func (d *tableDriver) Authorize(_ context.Context, m UserModel, command, path string) (Decision, error) {
	return Decision{Allow: d.allow[m.(string)+" "+command+" "+path], Rule: "table"}, nil
}

func (d *tableDriver) RepoPath(_ context.Context, path string) (string, error) {
	if p, ok := d.repoPath[path]; ok {
		return p, nil
	}
	name, err := CleanName(path)
	if err != nil {
		return "", err
	}
	return filepath.Join(d.root, DirName(name)), nil
}

func bareRepo(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPlan(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "repos")
	bareRepo(t, filepath.Join(root, "team/app.git"))
	bareRepo(t, filepath.Join(base, "outside.git"))
	os.MkdirAll(filepath.Join(root, "team/notrepo.git"), 0o755)
	if err := os.Symlink(filepath.Join(base, "outside.git"), filepath.Join(root, "team/link.git")); err != nil {
		t.Fatal(err)
	}
	d := &tableDriver{root: root, allow: map[string]bool{
		"alice git-upload-pack team/app.git":      true,
		"alice git-upload-pack /team/app":         true,
		"alice git-receive-pack team/app.git":     true,
		"alice git-upload-pack team/link.git":     true,
		"alice git-upload-pack team/notrepo.git":  true,
		"alice git-upload-pack team/missing.git":  true,
		"alice git-upload-pack team/relative.git": true,
	}, repoPath: map[string]string{"team/relative.git": "team/app.git"}}
	s := &Shim{Driver: d, Root: root, Git: "/usr/bin/git", Home: "/home/git"}
	realRoot, _ := filepath.EvalSymlinks(root)

	for _, tt := range []struct {
		user, cmd string
		wantMsg   string // "" for success
	}{
		{"alice", "git-upload-pack 'team/app.git'", ""},
		{"alice", "git upload-pack '/team/app'", ""},
		{"alice", "git-receive-pack 'team/app.git'", ""},
		{"bob", "git-upload-pack 'team/app.git'", MsgDenied},
		{"nobody", "git-upload-pack 'team/app.git'", MsgDenied},
		{"alice", "git-upload-pack 'team/link.git'", MsgDenied},
		{"alice", "git-upload-pack 'team/notrepo.git'", MsgDenied},
		{"alice", "git-upload-pack 'team/missing.git'", MsgDenied},
		{"alice", "git-upload-pack 'team/relative.git'", MsgDenied},
		{"alice", "git-upload-pack '../etc'", MsgBadName},
		{"alice", "rm -rf /", MsgBadCommand},
		{"alice", "git-upload-pack '--help'", MsgBadCommand},
	} {
		p, err := s.Plan(context.Background(), Request{User: tt.user, Key: "SHA256:k", Command: tt.cmd})
		if tt.wantMsg == "" {
			if err != nil {
				t.Errorf("Plan(%s, %q) = %v, want success", tt.user, tt.cmd, err)
				continue
			}
			want := filepath.Join(realRoot, "team/app.git")
			if p.Dir != want || p.Name != "team/app" || p.Argv[0] != "/usr/bin/git" || p.Argv[2] != want || p.Rule != "table" {
				t.Errorf("Plan(%s, %q) = %+v", tt.user, tt.cmd, p)
			}
			continue
		}
		var ce *ClientError
		if !errors.As(err, &ce) || ce.Msg != tt.wantMsg {
			t.Errorf("Plan(%s, %q) = %v, want client message %q", tt.user, tt.cmd, err, tt.wantMsg)
		}
	}
	if _, err := s.Plan(context.Background(), Request{User: "alice"}); !errors.Is(err, ErrNoCommand) {
		t.Errorf("Plan(no command) = %v, want ErrNoCommand", err)
	}
	p, err := s.Plan(context.Background(), Request{User: "alice", Command: "keys list --user bob"})
	if !errors.Is(err, ErrBuiltin) || p == nil || p.Builtin == nil || p.Verb != "keys list" || p.Builtin.User != "bob" || p.Argv != nil {
		t.Errorf("Plan(keys list --user bob) = %+v, %v, want a builtin plan and ErrBuiltin", p, err)
	}
	var ce *ClientError
	if _, err := s.Plan(context.Background(), Request{User: "alice", Command: "info ../x"}); !errors.As(err, &ce) || ce.Msg != MsgBadBuiltin {
		t.Errorf("Plan(info ../x) = %v, want %q", err, MsgBadBuiltin)
	}
}

func TestPlanArgvVerbs(t *testing.T) {
	for verb, sub := range map[string]string{UploadPack: "upload-pack", ReceivePack: "receive-pack", UploadArchive: "upload-archive"} {
		if got := verbCommand(verb); got != sub {
			t.Errorf("verbCommand(%q) = %q, want %q", verb, got, sub)
		}
	}
	if !strings.Contains(Greeting("alice"), "Hi alice!") {
		t.Errorf("Greeting = %q", Greeting("alice"))
	}
}

func TestPlanArgvHooksPath(t *testing.T) {
	s := &Shim{Git: "/usr/bin/git", HooksPath: func(dir string) string { return "/var/lib/gitserver/hooks/for" + dir }}
	got := strings.Join(s.argv(ReceivePack, "/srv/git/a.git"), " ")
	if want := "/usr/bin/git -c core.hooksPath=/var/lib/gitserver/hooks/for/srv/git/a.git receive-pack /srv/git/a.git"; got != want {
		t.Errorf("argv(receive-pack) = %q, want %q", got, want)
	}
	for _, verb := range []string{UploadPack, UploadArchive} {
		if got := s.argv(verb, "/srv/git/a.git"); len(got) != 3 {
			t.Errorf("argv(%s) = %q: only receive-pack runs hooks", verb, got)
		}
	}
}

func TestRefusal(t *testing.T) {
	msg, args := Refusal(Request{Command: strings.Repeat("x", 300)}, nil, &ClientError{MsgBadCommand, errors.New("detail")})
	if msg != MsgBadCommand {
		t.Errorf("msg = %q, want %q", msg, MsgBadCommand)
	}
	if raw := args[len(args)-1].(string); len(raw) != 203 {
		t.Errorf("raw_command not cut to 200 bytes: %d", len(raw))
	}
	msg, args = Refusal(Request{}, &Plan{Verb: UploadPack, Name: "a/b", Rule: "p.toml:3"}, errors.New("internal"))
	if msg != MsgUnavailable {
		t.Errorf("non-client error told the client %q", msg)
	}
	if got := fmt.Sprint(args); !strings.Contains(got, "repo a/b") || !strings.Contains(got, "rule p.toml:3") {
		t.Errorf("log args = %v", got)
	}
}
