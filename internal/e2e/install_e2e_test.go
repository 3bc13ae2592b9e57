package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// TestGoInstallIsAWholeInstallation: 'go install ./cmd/gitserver' into an
// empty GOBIN gives one binary that, alone, does all an admin and sshd ask
// of it: init, keys add, check, authorized-keys, shell and serve.
func TestGoInstallIsAWholeInstallation(t *testing.T) {
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", "-trimpath", "../../cmd/gitserver")
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(gobin)
	if err != nil || len(entries) != 1 || entries[0].Name() != "gitserver" {
		t.Fatalf("GOBIN holds %v (%v), want gitserver alone", entries, err)
	}
	bin := filepath.Join(gobin, "gitserver")
	home := t.TempDir()
	dir := filepath.Join(home, "site")
	cfg := filepath.Join(dir, "etc/config.toml")
	run := func(stdin string, env []string, args ...string) (string, error) {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, env...)
		c.Stdin = strings.NewReader(stdin)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, err := run(stdin, nil, args...)
		if err != nil {
			t.Fatalf("gitserver %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out := must("", "--version"); !strings.HasPrefix(out, "gitserver ") {
		t.Errorf("--version = %q", out)
	}
	if out := must("", "version"); !strings.HasPrefix(out, "gitserver ") {
		t.Errorf("version = %q", out)
	}
	// The ssh user must exist for check to find nothing wrong with it:
	// the account running the test.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	sshUser := me.Username
	must("", "--config", cfg, "init", "--ssh-user", sshUser, "--repos", filepath.Join(dir, "repos"), "--data-dir", filepath.Join(dir, "data"))
	writeFile(t, filepath.Join(dir, "etc/policy.toml"), "[[rule]]\nrepos = [\"**\"]\nusers = [\"alice\"]\naccess = \"admin\"\n")
	pub := sshdtest.Keygen(t, filepath.Join(home, "id_ed25519"))
	must(pub+"\n", "--config", cfg, "keys", "add", "--user", "alice")
	must("", "--config", cfg, "repos", "create", "team/app")
	// The one problem check may find is where the test installed the
	// binary (a temporary directory, which sshd would refuse).
	out, _ := run("", nil, "--config", cfg, "check", "--serve-only") // not behind this host's sshd
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "problem:") && !strings.Contains(line, "sshd refuses such an AuthorizedKeysCommand") {
			t.Errorf("check: %s\n%s", line, out)
		}
	}
	if !strings.Contains(out, "ok:") && !strings.Contains(out, "problem(s)") {
		t.Errorf("check did not finish:\n%s", out)
	}

	f := strings.Fields(pub)
	line := must("", "--config", cfg, "authorized-keys", sshUser, f[0], f[1])
	if !strings.HasPrefix(line, `command="`+bin+" --config ") || !strings.Contains(line, "shell --user alice --key SHA256:") {
		t.Fatalf("authorized-keys printed %q", line)
	}
	fp := line[strings.Index(line, "--key ")+len("--key ") : strings.Index(line, `",restrict`)]
	out, err = run("", []string{"SSH_ORIGINAL_COMMAND=git-upload-pack 'team/app.git'"}, "--config", cfg, "shell", "--user", "alice", "--key", fp)
	if !strings.HasPrefix(out, "0000") { // an empty repository's advertisement: a flush
		t.Errorf("shell ran no upload-pack: %v\n%q", err, out)
	}
	if out, err := run("", []string{"SSH_ORIGINAL_COMMAND=whoami"}, "--config", cfg, "shell", "--user", "alice", "--key", fp); err != nil || !strings.Contains(out, "user alice") {
		t.Errorf("shell whoami: %v\n%s", err, out)
	}

	port := sshdtest.FreePort(t)
	srv := exec.Command(bin, "--config", cfg, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	srv.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	out2 := &sshdtest.SyncBuffer{}
	srv.Stdout, srv.Stderr = out2, out2
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	kh := filepath.Join(home, "known_hosts")
	sshCmd := fmt.Sprintf("ssh -i %s -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=%s -p %d", filepath.Join(home, "id_ed25519"), kh, port)
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out2.String(), "listening on") {
		if time.Now().After(deadline) || srv.ProcessState != nil {
			t.Fatalf("serve did not start listening:\n%s", out2.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	git := exec.Command("git", "ls-remote", fmt.Sprintf("ssh://%s@127.0.0.1:%d/team/app.git", sshUser, port))
	git.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_SSH_COMMAND=" + sshCmd}
	if o, err := git.CombinedOutput(); err != nil {
		t.Fatalf("git ls-remote through serve: %v\n%s\nserve:\n%s", err, o, out2.String())
	}
}
