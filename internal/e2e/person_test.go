package e2e

import (
	"os"
	"os/exec"
	"testing"
)

// person is someone with a home and an ssh config that reaches the server
// under test as host "gitsrv", running the real git and ssh clients. The
// sshd tests (client) and the serve tests (sclient) both build on it.
type person struct {
	t      testing.TB
	name   string
	home   string
	sshCfg string
}

// env is git's environment for p: nothing of the test's but PATH.
func (p *person) env() []string {
	return []string{
		"HOME=" + p.home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_SSH_COMMAND=ssh -F " + p.sshCfg,
		"GIT_AUTHOR_NAME=" + p.name, "GIT_AUTHOR_EMAIL=" + p.name + "@example.com",
		"GIT_COMMITTER_NAME=" + p.name, "GIT_COMMITTER_EMAIL=" + p.name + "@example.com",
	}
}

// git runs the real git client as p, in dir.
func (p *person) git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, p.env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustGit is git that must succeed.
func (p *person) mustGit(dir string, args ...string) string {
	p.t.Helper()
	out, err := p.git(dir, args...)
	if err != nil {
		p.t.Fatalf("%s: git %v: %v\n%s", p.name, args, err, out)
	}
	return out
}

// ssh runs the real ssh client as p against gitsrv, with extra options and
// a remote command.
func (p *person) ssh(extra []string, command ...string) (string, error) {
	args := append([]string{"-F", p.sshCfg}, extra...)
	args = append(append(args, "gitsrv"), command...)
	cmd := exec.Command("ssh", args...)
	cmd.Env = []string{"HOME=" + p.home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
