package cli

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestShellSignals runs the installed binary's shell as sshd would and
// signals it while git-upload-pack waits for the client: SIGHUP,
// SIGTERM and SIGINT (sshd's when the client goes away) end git, and
// the request is logged, whatever the moment the shell installed its
// handlers (in the background, see internal/shell.CatchSignals).
func TestShellSignals(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"repos", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "config.toml")
	writeFile(t, cfg, fmt.Sprintf("ssh_user = %q\nrepos = \"repos\"\ndata_dir = \"data\"\npolicy = \"policy.toml\"\n[log]\nfile = \"gitserver.log\"\n", me.Username))
	writeFile(t, filepath.Join(dir, "policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"alice\"]\naccess = \"read\"\n")
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "alice.pub"), string(ssh.MarshalAuthorizedKey(sshPub)))
	admin := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(bin, append([]string{"--config", cfg}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("gitserver %v: %v\n%s", args, err, out)
		}
	}
	admin("keys", "add", "--user", "alice", filepath.Join(dir, "alice.pub"))
	admin("repos", "create", "team/app")
	fp := ssh.FingerprintSHA256(sshPub)

	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			before, _ := os.ReadFile(filepath.Join(dir, "gitserver.log"))
			cmd := exec.Command(bin, "--config", cfg, "shell", "--user", "alice", "--key", fp)
			cmd.Env = append(os.Environ(), "SSH_ORIGINAL_COMMAND=git-upload-pack 'team/app.git'")
			stdin, err := cmd.StdinPipe() // held open: upload-pack waits for the client's wants
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			// A git that outlived the shell would hold stderr open.
			cmd.WaitDelay = 10 * time.Second
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if err := readAdvertisement(bufio.NewReader(stdout)); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no advertisement: %v\nstderr: %s", err, stderr.String())
			}
			git := children(t, cmd.Process.Pid)
			if len(git) != 1 {
				t.Fatalf("shell has children %v, want one: git-upload-pack", git)
			}
			defer syscall.Kill(git[0], syscall.SIGKILL) // only if the test fails
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			go io.Copy(io.Discard, stdout)
			err = cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() <= 0 {
				t.Fatalf("shell after %v: %v, want an exit code (not a death by the signal)\nstderr: %s", sig, err, stderr.String())
			}
			// The shell waits for git, so git is gone (reaped) when it exits.
			if err := syscall.Kill(git[0], 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("git (pid %d) outlived the shell: kill 0: %v", git[0], err)
			}
			after, _ := os.ReadFile(filepath.Join(dir, "gitserver.log"))
			added := strings.TrimPrefix(string(after), string(before))
			if !strings.Contains(added, "request:") || !strings.Contains(added, "command=git-upload-pack") || !strings.Contains(added, "exit="+strconv.Itoa(exit.ExitCode())) {
				t.Errorf("no request line with exit=%d for the signalled request:\n%s", exit.ExitCode(), added)
			}
		})
	}
}

// readAdvertisement reads pkt-lines up to the flush that ends
// upload-pack's ref advertisement.
func readAdvertisement(r *bufio.Reader) error {
	for {
		var n [4]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			return err
		}
		size, err := strconv.ParseUint(string(n[:]), 16, 16)
		if err != nil {
			return fmt.Errorf("pkt-line length %q: %w", n, err)
		}
		if size == 0 {
			return nil
		}
		if size < 4 {
			return fmt.Errorf("pkt-line length %d", size)
		}
		if _, err := io.CopyN(io.Discard, r, int64(size-4)); err != nil {
			return err
		}
	}
}

// children are the pids of pid's child processes (Linux's
// /proc/PID/task/*/children).
func children(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("tasks of %d: %v", pid, err)
	}
	var pids []int
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range strings.Fields(string(b)) {
			p, err := strconv.Atoi(s)
			if err != nil {
				t.Fatal(err)
			}
			pids = append(pids, p)
		}
	}
	return pids
}
