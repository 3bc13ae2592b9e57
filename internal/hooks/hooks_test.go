package hooks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestEnsureWritesAndRewrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if _, err := Ensure(dir, "/usr/bin/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	for _, name := range Names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v, mode %v", name, err, fi.Mode())
		}
	}
	// A changed binary path is written again.
	if _, err := Ensure(dir, "/opt/it's/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile(filepath.Join(dir, "pre-receive"))
	if !strings.Contains(string(body), `exec '/opt/it'\''s/gitserver' --config '/etc/gitserver/config.toml' hook pre-receive "$@"`) {
		t.Fatalf("pre-receive:\n%s", body)
	}
	// The quoting is sh's: the script runs what it names.
	for _, name := range Names {
		out, err := exec.Command("sh", "-n", filepath.Join(dir, name)).CombinedOutput()
		if err != nil {
			t.Fatalf("sh -n %s: %v %s", name, err, out)
		}
		// Only pre-receive and post-receive start gitserver.
		body, _ := os.ReadFile(filepath.Join(dir, name))
		want := name == "pre-receive" || name == "post-receive"
		if got := strings.Contains(string(body), "gitserver'"); got != want {
			t.Errorf("%s names the binary: %v, want %v:\n%s", name, got, want, body)
		}
	}
}

func TestEnsureRefusesWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if _, err := Ensure(dir, "/g", "/c"); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "update"), 0o777)
	if _, err := Ensure(dir, "/g", "/c"); err == nil || !strings.Contains(err.Error(), "writable by group or others") {
		t.Fatalf("Ensure with a world-writable script = %v", err)
	}
	os.Chmod(filepath.Join(dir, "update"), 0o755)
	os.Chmod(dir, 0o777)
	if _, err := Ensure(dir, "/g", "/c"); err == nil {
		t.Fatalf("Ensure with a world-writable directory succeeded")
	}
	if _, err := Ensure(dir, "g", "/c"); err == nil {
		t.Fatalf("Ensure with a relative binary succeeded")
	}
}

func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if err := Check(dir); err != nil {
		t.Errorf("Check(missing dir) = %v, want nil", err)
	}
	if _, err := Ensure(dir, "/usr/local/bin/gitserver", "/etc/gitserver/config.toml"); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err != nil {
		t.Errorf("Check(fresh dir) = %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, Names[0]), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir); err == nil {
		t.Error("Check accepted a world-writable hook")
	}
	os.Chmod(filepath.Join(dir, Names[0]), 0o755)
	only := filepath.Join(dir, "pre-receive-only")
	for _, p := range []string{filepath.Join(only, "pre-receive"), only, filepath.Join(dir, "no-webhooks", "post-receive")} {
		os.Chmod(p, 0o777)
		if err := Check(dir); err == nil {
			t.Errorf("Check accepted a world-writable %s", p)
		}
		os.Chmod(p, 0o755)
	}
}

// TestChainScript runs the script of a hook other than pre-receive with
// sh, as git would, in the repository layouts git may give it.
func TestChainScript(t *testing.T) {
	const echo = "#!/bin/sh\necho \"args: $*\"\necho \"stdin: $(cat)\"\nexit 3\n"
	for _, tt := range []struct {
		name   string
		gitDir string // GIT_DIR relative to the run's directory; "unset" for none
		cwd    string // the run's directory, relative to base
		setup  func(t *testing.T, hooks string)
		want   string // output
		code   int
	}{
		{"none", ".", "repo", nil, "", 0},
		{"executable", ".", "repo", writeExec("update", echo), "args: a b\nstdin: in\n", 3},
		{"GIT_DIR unset", "unset", "repo", writeExec("update", echo), "args: a b\nstdin: in\n", 3},
		{"GIT_DIR empty", "", "repo", writeExec("update", echo), "args: a b\nstdin: in\n", 3},
		{"GIT_DIR absolute", "ABS", "", writeExec("update", echo), "args: a b\nstdin: in\n", 3},
		{"GIT_DIR relative like a flag", "-repo", "", writeExec("update", echo), "args: a b\nstdin: in\n", 3},
		{"not executable", ".", "repo", writeMode("update", echo, 0o644), "", 0},
		{"directory", ".", "repo", func(t *testing.T, h string) { os.Mkdir(filepath.Join(h, "update"), 0o755) }, "", 0},
		{"symlink to an executable", ".", "repo", func(t *testing.T, h string) {
			writeExec("real", echo)(t, h)
			os.Symlink("real", filepath.Join(h, "update"))
		}, "args: a b\nstdin: in\n", 3},
		{"dangling symlink", ".", "repo", func(t *testing.T, h string) { os.Symlink("nothere", filepath.Join(h, "update")) }, "", 0},
		{"another hook's name", ".", "repo", writeExec("post-update", echo), "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dirName := "repo"
			if tt.gitDir == "-repo" {
				dirName = "-repo"
			}
			gitDir := filepath.Join(base, dirName)
			hooks := filepath.Join(gitDir, "hooks")
			if err := os.MkdirAll(hooks, 0o755); err != nil {
				t.Fatal(err)
			}
			// An "update" in PATH must never run.
			bin := filepath.Join(base, "bin")
			os.Mkdir(bin, 0o755)
			mark := filepath.Join(base, "from-path")
			writeExec("update", "#!/bin/sh\ntouch "+mark+"\n")(t, bin)
			if tt.setup != nil {
				tt.setup(t, hooks)
			}
			script := filepath.Join(base, "script")
			if err := os.WriteFile(script, []byte(Script("/g", "/c", "update", false)), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", script, "a", "b")
			cmd.Dir = filepath.Join(base, tt.cwd)
			cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
			switch tt.gitDir {
			case "unset":
			case "ABS":
				cmd.Env = append(cmd.Env, "GIT_DIR="+gitDir)
			default:
				cmd.Env = append(cmd.Env, "GIT_DIR="+tt.gitDir)
			}
			cmd.Stdin = strings.NewReader("in")
			out, err := cmd.Output()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want || code != tt.code {
				t.Errorf("update script = %q, exit %d; want %q, exit %d", out, code, tt.want, tt.code)
			}
			if _, err := os.Stat(mark); err == nil {
				t.Error("the script ran an update hook found in PATH")
			}
		})
	}
}

// writeExec returns a setup that writes an executable file name into a
// directory.
func writeExec(name, body string) func(*testing.T, string) {
	return writeMode(name, body, 0o755)
}

func writeMode(name, body string, mode os.FileMode) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestScriptsInPush pushes through the scripts with real git: with no
// repository hooks, a push of many refs works (git ignores SIGPIPE from
// hooks that do not read their input); with them, each runs with git's
// arguments and input.
func TestScriptsInPush(t *testing.T) {
	r := newRepo(t)
	// /bin/true stands for gitserver: the pre-receive check allows.
	dir, err := Ensure(filepath.Join(t.TempDir(), "hooks"), "/bin/true", "/c")
	if err != nil {
		t.Fatal(err)
	}
	r.srv("config", "core.hooksPath", dir)
	// More than a pipe holds (64 KiB) of post-receive and
	// reference-transaction input, none of it read: 120 refs of 700
	// bytes (few refs: git runs the update script for each).
	long := strings.Repeat("d", 200) + "/" + strings.Repeat("e", 200) + "/" + strings.Repeat("f", 200)
	var refs []string
	for i := range 120 {
		refs = append(refs, fmt.Sprintf("HEAD:refs/heads/%s/%03d", long, i))
	}
	r.git(r.work, append([]string{"push", "-q", r.dir}, refs...)...)
	if got := r.srv("rev-parse", "refs/heads/"+long+"/119"); got != r.git(r.work, "rev-parse", "HEAD") {
		t.Fatalf("the last branch is at %s", got)
	}

	out := filepath.Join(t.TempDir(), "ran")
	// (post-receive is gitserver's own, which runs the repository's:
	// see the webhook tests.)
	for _, name := range []string{"update", "post-update", "reference-transaction"} {
		r.writeHook(name, "#!/bin/sh\n{ echo \""+name+" $*\"; cat; } >> "+out+"\n")
	}
	old := r.git(r.work, "rev-parse", "HEAD")
	next := r.commit("second")
	r.git(r.work, "push", "-q", r.dir, "main")
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	line := old + " " + next + " refs/heads/main"
	for _, want := range []string{
		"update refs/heads/main " + old + " " + next + "\n",
		"post-update refs/heads/main\n",
		"reference-transaction prepared\n" + line + "\n",
		"reference-transaction committed\n" + line + "\n",
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("repository hooks' record lacks %q:\n%s", want, got)
		}
	}
}

// TestFor: each push goes through the directory that starts the fewest
// processes for it, and git runs what is there: gitserver for
// pre-receive; gitserver for post-receive only when a webhook wants the
// repository; sh for the other names only when the repository has hooks
// of its own, in any form.
func TestFor(t *testing.T) {
	base := t.TempDir()
	mark := filepath.Join(base, "ran")
	bin := filepath.Join(base, "gitserver")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho \"gitserver $*\" >> "+mark+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := Ensure(filepath.Join(base, "hooks"), bin, "/c")
	if err != nil {
		t.Fatal(err)
	}
	holds := map[string][]string{
		"":                     Names,
		"no-webhooks":          Names,
		"pre-and-post-receive": {"post-receive", "pre-receive"},
		"pre-receive-only":     {"pre-receive"},
	}
	for sub, want := range holds {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			if !e.IsDir() {
				got = append(got, e.Name())
			}
		}
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s holds %v, want %v", filepath.Join(dir, sub), got, want)
		}
	}

	r := newRepo(t) // git init: sample hooks only
	r.writeHook("pre-receive", "#!/bin/sh\nexit 0\n")
	const check = "gitserver --config /c hook pre-receive\n"
	const queue = "gitserver --config /c hook post-receive\n"
	own := "#!/bin/sh\necho \"own post-receive\" >> " + mark + "\n"
	for _, tt := range []struct {
		name        string
		webhooks    bool
		postReceive bool // the repository has its own post-receive
		sub, ran    string
	}{
		{"no webhooks, no hooks", false, false, "pre-receive-only", check},
		{"webhooks, no hooks", true, false, "pre-and-post-receive", check + queue},
		{"no webhooks, own post-receive", false, true, "no-webhooks", check + "own post-receive\n"},
		// gitserver's post-receive runs the repository's; the script
		// that stands for gitserver here does not.
		{"webhooks, own post-receive", true, true, "pre-and-post-receive", check + queue},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(filepath.Join(r.dir, "hooks", "post-receive"))
			if tt.postReceive {
				r.writeHook("post-receive", own)
			}
			got := For(dir, r.dir, tt.webhooks)
			if want := filepath.Join(dir, tt.sub); got != want {
				t.Fatalf("For = %s, want %s", got, want)
			}
			os.Remove(mark)
			r.srv("config", "core.hooksPath", got)
			r.commit(tt.name)
			r.git(r.work, "push", "-q", r.dir, "main")
			if ran, err := os.ReadFile(mark); err != nil || string(ran) != tt.ran {
				t.Fatalf("the push ran %q, %v; want %q", ran, err, tt.ran)
			}
		})
	}
	os.Remove(filepath.Join(r.dir, "hooks", "post-receive"))

	for _, name := range Names[1:] {
		for _, create := range []func(p string) error{
			func(p string) error { return os.WriteFile(p, nil, 0o644) }, // not even executable
			func(p string) error { return os.Symlink("nothere", p) },
		} {
			p := filepath.Join(r.dir, "hooks", name)
			if err := create(p); err != nil {
				t.Fatal(err)
			}
			for _, webhooks := range []bool{false, true} {
				want := filepath.Join(dir, "no-webhooks")
				switch {
				case webhooks && name == "post-receive":
					want = filepath.Join(dir, "pre-and-post-receive") // gitserver's runs it
				case webhooks:
					want = dir
				}
				if got := For(dir, r.dir, webhooks); got != want {
					t.Errorf("For(repository with hooks/%s, webhooks %v) = %s, want %s", name, webhooks, got, want)
				}
			}
			os.Remove(p)
		}
	}
}

// TestEnsureRemovesStale: a hook an older version wrote into a
// directory that must not hold it goes, so git does not run it.
func TestEnsureRemovesStale(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	if _, err := Ensure(dir, "/g", "/c"); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "pre-receive-only", "post-receive")
	if err := os.WriteFile(stale, []byte(Script("/g", "/c", "post-receive", true)), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(dir, "/g", "/c"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Fatalf("%s after Ensure: %v", stale, err)
	}
}
