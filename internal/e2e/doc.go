// Package e2e holds gitserver's end-to-end tests and whole-system
// benchmarks, and nothing else: the built gitserver binary behind a real
// OpenSSH sshd (as root) and as 'gitserver serve', driven by the real git
// and ssh clients. Its files are the tests (go test ./internal/e2e);
// README's Performance section lists the benchmarks.
//
// With CI set, a test that cannot run here (no sshd, not root, no
// fail2ban-regex) fails instead of skipping.
package e2e
