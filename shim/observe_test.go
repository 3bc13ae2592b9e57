package shim

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appRepo is git's path and a repository root holding team/app.git,
// empty.
func appRepo(t *testing.T) (git, root string) {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(t.TempDir(), "repos")
	if out, err := exec.Command(git, "init", "-q", "--bare", filepath.Join(root, "team/app.git")).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	return git, root
}

// TestServeSummaries: with Observe set, every request, served or
// refused, gives one Summary with its service, result and bytes.
func TestServeSummaries(t *testing.T) {
	git, root := appRepo(t)
	d := &tableDriver{root: root, allow: map[string]bool{"alice git-upload-pack team/app.git": true}}
	var got []Summary
	s := &Shim{Driver: d, Root: root, Git: git, Home: t.TempDir(), Observe: func(o Summary) { got = append(got, o) }}
	for _, tc := range []struct {
		user, cmd, stdin string
		want             Summary
	}{
		// upload-pack advertises its refs and capabilities, then reads
		// the flush packet that says the client wants nothing.
		{"alice", "git-upload-pack 'team/app.git'", "0000", Summary{Service: UploadPack, Result: ResultOK, Repo: "team/app", BytesIn: 4}},
		{"bob", "git-upload-pack 'team/app.git'", "", Summary{Service: UploadPack, Result: ResultDenied, Repo: "team/app"}},
		{"alice", "rm -rf /", "", Summary{Service: ServiceUnknown, Result: ResultDenied}},
		{"alice", "", "", Summary{Service: ServiceShell, Result: ResultDenied}},
	} {
		got = nil
		var stdout, stderr bytes.Buffer
		s.Serve(context.Background(), Request{User: tc.user, Key: "SHA256:k", Command: tc.cmd},
			Stdio{Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr}, time.Now())
		if len(got) != 1 {
			t.Errorf("%s %q: %d summaries, want 1", tc.user, tc.cmd, len(got))
			continue
		}
		o := got[0]
		if o.Duration <= 0 {
			t.Errorf("%s %q: duration %v", tc.user, tc.cmd, o.Duration)
		}
		if o.BytesOut != int64(stdout.Len()) {
			t.Errorf("%s %q: %d bytes out counted, %d written", tc.user, tc.cmd, o.BytesOut, stdout.Len())
		}
		if tc.want.Result == ResultOK && stdout.Len() == 0 {
			t.Errorf("%s %q: upload-pack advertised nothing", tc.user, tc.cmd)
		}
		o.Duration, o.BytesOut = 0, 0
		if o != tc.want {
			t.Errorf("%s %q: %+v, want %+v (stderr %q)", tc.user, tc.cmd, o, tc.want, stderr.String())
		}
	}
}

// TestServeReady: Ready is called once before git or a built-in command
// starts, and never for a refused request.
func TestServeReady(t *testing.T) {
	git, root := appRepo(t)
	d := &tableDriver{root: root, allow: map[string]bool{"alice git-upload-pack team/app.git": true}}
	var stdout bytes.Buffer
	readies, ranBefore := 0, false
	s := &Shim{Driver: d, Root: root, Git: git, Home: t.TempDir(),
		Ready: func() { readies++; ranBefore = ranBefore || stdout.Len() > 0 },
		Builtin: func(_ context.Context, c BuiltinCall) (int, error) {
			if readies == 0 {
				t.Errorf("built-in %s ran before Ready", c.Cmd)
			}
			return 0, nil
		},
	}
	for _, tc := range []struct {
		user, cmd string
		want      int
	}{
		{"alice", "git-upload-pack 'team/app.git'", 1},
		{"alice", "whoami", 1},
		{"bob", "git-upload-pack 'team/app.git'", 0},
		{"nobody", "whoami", 0},
		{"alice", "rm -rf /", 0},
		{"alice", "", 0},
	} {
		stdout.Reset()
		readies, ranBefore = 0, false
		s.Serve(context.Background(), Request{User: tc.user, Key: "SHA256:k", Command: tc.cmd},
			Stdio{Stdin: strings.NewReader("0000"), Stdout: &stdout, Stderr: &bytes.Buffer{}}, time.Now())
		if readies != tc.want {
			t.Errorf("%s %q: Ready called %d times, want %d", tc.user, tc.cmd, readies, tc.want)
		}
		if ranBefore {
			t.Errorf("%s %q: git wrote before Ready", tc.user, tc.cmd)
		}
	}
}
