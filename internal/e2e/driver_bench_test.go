package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gitserver/gitserver/internal/sshdtest"
)

// BenchmarkDriverLoginClone measures one login plus a clone through the
// real sshd with the built-in file driver (the baseline) and with the
// exec driver running the seed-API Python example, alternating the two in
// one run; it reports each median and the ratio.
//
//	go test ./internal/e2e -run XXX -bench DriverLoginClone -benchtime 50x
func BenchmarkDriverLoginClone(b *testing.B) {
	py := installPythonDriver(b)
	file := newDriverBenchServer(b)
	file.admin("", "repos", "create", "team/app")
	seedRepo(b, filepath.Join(file.repos, "team/app.git"))
	python := newDriverBenchServer(b)
	admin := python.usePython(py)
	python.admin("", "repos", "create", "team/app")
	seedRepo(b, filepath.Join(python.repos, "team/app.git"))

	home := filepath.Join(file.dir, "home")
	os.MkdirAll(home, 0o700)
	key := filepath.Join(home, "id_ed25519")
	pub := sshdtest.Keygen(b, key)
	file.admin(pub+"\n", "keys", "add", "--user", "alice")
	admin("add-key", "alice", pub)
	admin("grant", "alice", "team/app", "read")

	n := 0
	clone := func(s *server) func() *exec.Cmd {
		sub := filepath.Join(home, filepath.Base(s.dir))
		os.MkdirAll(sub, 0o700)
		cfg := s.sshd.ClientConfig(b, sub, key, "root")
		return func() *exec.Cmd {
			n++
			dst := filepath.Join(b.TempDir(), fmt.Sprint(n))
			c := exec.Command("git", "clone", "-q", "root@gitsrv:team/app.git", dst)
			c.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_SSH_COMMAND=ssh -F " + cfg}
			return c
		}
	}
	alternate(b, []*variant{
		{name: "file", cmd: clone(file)},
		{name: "exec-python", cmd: clone(python)},
	})
}

// newDriverBenchServer is newServer for benchmarks.
func newDriverBenchServer(b *testing.B) *server {
	b.Helper()
	s := newServerFiles(b)
	s.sshd = sshdtest.Start(b, fmt.Sprintf("AuthorizedKeysFile none\nAuthorizedKeysCommand %s --config %s authorized-keys %%u %%t %%k\nAuthorizedKeysCommandUser root\nPermitRootLogin forced-commands-only\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitTTY no\nDisableForwarding yes\nAcceptEnv GIT_PROTOCOL\n", s.bin, s.cfg))
	return s
}
