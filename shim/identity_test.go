package shim

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// keyTable is a tableDriver that also knows which key is whose now.
type keyTable struct {
	tableDriver
	owner map[string]string // fingerprint → user
}

func (d *keyTable) Authenticate(_ context.Context, c Credentials) (string, error) {
	if u, ok := d.owner[c.Fingerprint]; ok {
		return u, nil
	}
	return "", ErrUnknownKey
}

func (d *keyTable) CheckKey(ctx context.Context, user, fp string) (UserModel, error) {
	if d.owner[fp] != user {
		return nil, ErrUnknownKey
	}
	return d.GetUserModel(ctx, user)
}

var _ KeyChecker = (*keyTable)(nil)

// TestPlanDecidesWhoAgain: every request is decided against who owns the
// key now, for git, built-in commands and the interactive login alike,
// whether the transport gives the key (credentials) or only its
// fingerprint.
func TestPlanDecidesWhoAgain(t *testing.T) {
	root := t.TempDir()
	bareRepo(t, filepath.Join(root, "team/app.git"))
	d := &keyTable{
		tableDriver: tableDriver{root: root, allow: map[string]bool{"alice git-upload-pack team/app.git": true, "bob git-upload-pack team/app.git": true}},
		owner:       map[string]string{"SHA256:alice": "alice", "SHA256:moved": "bob", "SHA256:nobody": "nobody"},
	}
	s := &Shim{Driver: d, Root: root, Git: "/usr/bin/git", Home: "/h"}
	cred := func(fp string) []Credentials { return []Credentials{{LoginUser: "git", Fingerprint: fp}} }
	for _, tt := range []struct {
		name string
		req  Request
		ok   bool
	}{
		{"key still hers", Request{User: "alice", Key: "SHA256:alice"}, true},
		{"key still hers (credentials)", Request{User: "alice", Key: "SHA256:alice", Credentials: cred("SHA256:alice")}, true},
		{"credentials alone", Request{Credentials: cred("SHA256:alice")}, true},
		{"key removed", Request{User: "alice", Key: "SHA256:gone"}, false},
		{"key removed (credentials)", Request{User: "alice", Key: "SHA256:gone", Credentials: cred("SHA256:gone")}, false},
		{"key moved to bob", Request{User: "alice", Key: "SHA256:moved"}, false},
		{"key moved to bob (credentials)", Request{User: "alice", Key: "SHA256:moved", Credentials: cred("SHA256:moved")}, false},
		{"user gone", Request{User: "nobody", Key: "SHA256:nobody"}, false},
		{"no one", Request{}, false},
	} {
		for _, command := range []string{"git-upload-pack 'team/app.git'", "whoami", "keys add --user bob", ""} {
			req := tt.req
			req.Command = command
			p, err := s.Plan(context.Background(), req)
			switch {
			case !tt.ok:
				var ce *ClientError
				if !errors.As(err, &ce) || ce.Msg != MsgDenied {
					t.Errorf("%s: Plan(%q) = %v, want %q", tt.name, command, err, MsgDenied)
				}
			case command == "":
				if !errors.Is(err, ErrNoCommand) || p.User != "alice" {
					t.Errorf("%s: Plan(%q) = %+v, %v, want ErrNoCommand for alice", tt.name, command, p, err)
				}
			case p == nil || p.User != "alice" || p.Key != "SHA256:alice" || p.Model != "alice":
				t.Errorf("%s: Plan(%q) = %+v, %v, want alice with her key and model", tt.name, command, p, err)
			case p.Builtin != nil && !errors.Is(err, ErrBuiltin), p.Builtin == nil && err != nil:
				t.Errorf("%s: Plan(%q) = %v", tt.name, command, err)
			}
		}
	}
}
