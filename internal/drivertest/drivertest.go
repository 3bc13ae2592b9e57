package drivertest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/shim"
)

// Fault is a way a driver's process or server misbehaves.
type Fault int

// The faults a Fixture's Faulty driver must be able to show. Each one
// applies to every operation after the driver has started.
const (
	Hang     Fault = iota // answers nothing, past the driver's timeout
	Garbage               // answers with something that is not the protocol
	Crash                 // dies (a process exits non-zero, a server answers 500)
	Oversize              // answers with more than the driver's size bound
	Outside               // allows everything; RepoPath is outside the root
)

var faultNames = []string{"hang", "garbage", "crash", "oversize", "outside"}

func (f Fault) String() string { return faultNames[f] }

// Fixture describes the driver under test.
type Fixture struct {
	// Root is the repos root: the driver maps a name NAME to
	// Root/NAME.git. Run creates the scenario's repositories there.
	Root string
	// Faulty returns a driver that shows fault f. Its timeout should be
	// short (a second or less): Run waits for it. Nil for drivers with
	// no process or network behind them (the file driver).
	Faulty func(t *testing.T, f Fault) shim.Driver
}

// maxFaultWait bounds how long a faulty driver may take to give up.
const maxFaultWait = 10 * time.Second

// Run checks the driver newDriver returns against the scenario. The
// driver is closed (if it is an io.Closer) at the end of each subtest.
func Run(t *testing.T, newDriver func(t *testing.T) shim.Driver, fx Fixture) {
	t.Helper()
	makeRepos(t, fx.Root)
	open := func(t *testing.T) shim.Driver {
		d := newDriver(t)
		closeAtEnd(t, d)
		return d
	}
	t.Run("Authenticate", func(t *testing.T) { testAuthenticate(t, open(t)) })
	t.Run("UnknownUser", func(t *testing.T) { testUnknownUser(t, open(t), fx.Root) })
	t.Run("Allow", func(t *testing.T) { testAllow(t, open(t), fx.Root) })
	t.Run("Deny", func(t *testing.T) { testDeny(t, open(t), fx.Root) })
	t.Run("RepoPathOutsideRoot", func(t *testing.T) { testEscape(t, open(t), fx.Root) })
	t.Run("OneDriverManyOps", func(t *testing.T) { testManyOps(t, open(t), fx.Root) })
	if fx.Faulty == nil {
		t.Log("no faults to inject: the driver has no process or server to misbehave")
		return
	}
	for f := Hang; f <= Outside; f++ {
		t.Run("Fault/"+f.String(), func(t *testing.T) {
			d := fx.Faulty(t, f)
			closeAtEnd(t, d)
			testFault(t, d, f, fx.Root)
		})
	}
}

func closeAtEnd(t *testing.T, d shim.Driver) {
	if c, ok := d.(io.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Logf("Close: %v", err)
			}
		})
	}
}

// makeRepos creates the scenario's repositories under root (a HEAD file
// is what the shim looks for) and escape/out.git as a symlink to a
// repository outside it.
func makeRepos(t *testing.T, root string) {
	t.Helper()
	for _, r := range Repos {
		bareRepo(t, filepath.Join(root, shim.DirName(r)))
	}
	outside := filepath.Join(t.TempDir(), "outside.git")
	bareRepo(t, outside)
	link := filepath.Join(root, shim.DirName("escape/out"))
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, link); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}
}

func bareRepo(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "HEAD"), []byte("ref: refs/heads/main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// plan runs the shim for user and command with driver d.
func plan(d shim.Driver, root, user, command string) (*shim.Plan, error) {
	s := &shim.Shim{Driver: d, Root: root, Git: "/usr/bin/git", Home: "/nonexistent"}
	return s.Plan(context.Background(), shim.Request{User: user, Key: Alice().Credentials.Fingerprint, Command: command})
}

// wantDenied checks that err is the client's fixed denial.
func wantDenied(t *testing.T, command string, err error) {
	t.Helper()
	var ce *shim.ClientError
	if !errors.As(err, &ce) || ce.Msg != shim.MsgDenied {
		t.Errorf("Plan(%q) = %v, want the denial %q", command, err, shim.MsgDenied)
	}
}

func realRoot(t *testing.T, root string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func short(err error) string {
	if err == nil {
		return "<nil>"
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.ReplaceAll(s, "\n", `\n`)
}
