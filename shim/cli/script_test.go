package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gitserver/gitserver/internal/exe"
	"github.com/gitserver/gitserver/internal/sshdtest"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as the gitserver command inside the
// testscript files in testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gitserver": func() {
			e := &env{os.Stdin, os.Stdout, os.Stderr, os.Getenv, context.Background()}
			os.Exit(run(e, os.Args[1:]))
		},
	})
}

// TestScripts runs the CLI scenarios in testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// In-process, gitserver is the test binary: no helper beside it.
		Condition: func(cond string) (bool, error) {
			if cond == "helper" {
				return false, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("GITSERVER_CONFIG", env.WorkDir+"/etc/config.toml")
			return nil
		},
	})
}

// TestScriptsBinaries runs the same scenarios against the gitserver binary
// as it is installed (static, sshd's calls answered before the full
// command line is built). Both ways must behave alike.
//
// The condition [helper] says whether gitserver finds its helpers
// (gitserver-replicate...) beside it, safe to run: the build's directory
// is, under a private TMPDIR, and is not under /tmp (world-writable).
func TestScriptsBinaries(t *testing.T) {
	dir := filepath.Dir(buildBinary(t))
	helper := exe.Check(filepath.Join(dir, "gitserver-replicate")) == nil
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Condition: func(cond string) (bool, error) {
			if cond == "helper" {
				return helper, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("GITSERVER_CONFIG", env.WorkDir+"/etc/config.toml")
			env.Setenv("PATH", dir+string(os.PathListSeparator)+env.Getenv("PATH"))
			return nil
		},
	})
}

// buildBinary is the gitserver binary under test (sshdtest.Gitserver).
func buildBinary(t testing.TB) string { return sshdtest.Gitserver(t) }

func writeFile(t testing.TB, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
