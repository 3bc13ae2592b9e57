package listener

import (
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestSessionHandle(t *testing.T) {
	env := func(name, value string) []byte { return ssh.Marshal(struct{ Name, Value string }{name, value}) }
	exec := func(cmd string) []byte { return ssh.Marshal(struct{ Command string }{cmd}) }
	type step struct {
		typ     string
		payload []byte
		ok      bool
		act     action
	}
	for _, tc := range []struct {
		name     string
		steps    []step
		protocol string
	}{
		{"git protocol then exec", []step{
			{"env", env("GIT_PROTOCOL", "version=2"), true, actNone},
			{"exec", exec("git-upload-pack 'x.git'"), true, actExec},
		}, "version=2"},
		{"other env refused", []step{
			{"env", env("LD_PRELOAD", "/tmp/x.so"), false, actNone},
			{"env", env("FOO", "bar"), false, actNone},
			{"env", env("--split-string", "touch x"), false, actNone},
		}, ""},
		{"malformed protocol refused", []step{
			{"env", env("GIT_PROTOCOL", "version=2 --upload-pack=x"), false, actNone},
			{"env", env("GIT_PROTOCOL", "version=2\n"), false, actNone},
		}, ""},
		{"garbage payloads", []step{
			{"env", []byte{0, 0, 0, 9}, false, actNone},
			{"exec", []byte{0, 0, 1}, false, actNone},
			{"shell", []byte("x"), false, actNone},
		}, ""},
		{"one exec per channel", []step{
			{"exec", exec("git-upload-pack 'x.git'"), true, actExec},
			{"exec", exec("git-receive-pack 'x.git'"), false, actNone},
			{"shell", nil, false, actNone},
			{"env", env("GIT_PROTOCOL", "version=2"), false, actNone},
		}, ""},
		{"refused request types", []step{
			{"pty-req", nil, false, actNone},
			{"subsystem", ssh.Marshal(struct{ Name string }{"sftp"}), false, actNone},
			{"x11-req", nil, false, actNone},
			{"auth-agent-req@openssh.com", nil, false, actNone},
			{"shell", nil, true, actShell},
		}, ""},
	} {
		var s session
		for i, st := range tc.steps {
			ok, act, _ := s.handle(st.typ, st.payload)
			if ok != st.ok || act != st.act {
				t.Errorf("%s: step %d: handle(%q) = %v, %v, want %v, %v", tc.name, i, st.typ, ok, act, st.ok, st.act)
			}
		}
		if s.protocol != tc.protocol {
			t.Errorf("%s: protocol = %q, want %q", tc.name, s.protocol, tc.protocol)
		}
	}
	var s session
	if _, _, cmd := s.handle("exec", exec("git-upload-pack 'a b.git'")); cmd != "git-upload-pack 'a b.git'" {
		t.Errorf("exec command = %q", cmd)
	}
}
