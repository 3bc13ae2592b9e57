// Package sshdconf reads sshd's effective configuration for the ssh user,
// as 'sshd -T' prints it, and says what in it keeps gitserver from
// working or lets a login around it. Parse and Check are pure; Run is the
// one place that starts sshd.
//
// # Security
//
// sshd decides who logs in and what runs; gitserver only sees the logins
// sshd hands it. Check looks for the ways that hand-off is lost: keys sshd
// reads from a file gitserver never sees, a ForceCommand overriding the
// forced command gitserver's key line carries, passwords where only a key
// line carries the forced command, forwarding without 'restrict'.
package sshdconf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// maxOutput bounds what Parse reads: sshd -T prints a few kilobytes.
const maxOutput = 1 << 20

// Effective is sshd's effective configuration: each keyword, lowercase as
// sshd -T prints it, with the values of each of its lines (AcceptEnv, for
// one, takes a line per pattern).
type Effective map[string][]string

// Parse reads sshd -T output.
func Parse(out []byte) (Effective, error) {
	if len(out) > maxOutput {
		return nil, fmt.Errorf("sshdconf: sshd -T printed more than %d bytes", maxOutput)
	}
	e := Effective{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 4096), maxOutput)
	for sc.Scan() {
		key, value, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if key == "" {
			continue
		}
		e[strings.ToLower(key)] = append(e[strings.ToLower(key)], strings.TrimSpace(value))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sshdconf: %w", err)
	}
	if len(e["authorizedkeyscommand"]) == 0 || len(e["forcecommand"]) == 0 {
		return nil, errors.New("sshdconf: sshd -T printed no authorizedkeyscommand or forcecommand line; is this OpenSSH's sshd?")
	}
	return e, nil
}

// first is the keyword's first value, "" when absent.
func (e Effective) first(key string) string {
	if v := e[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// values is every word of every line of the keyword (AcceptEnv A B and
// AcceptEnv C give A, B, C).
func (e Effective) values(key string) []string {
	var out []string
	for _, v := range e[key] {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// Want is what gitserver expects of sshd for its ssh user.
type Want struct {
	User          string // the ssh user, config's ssh_user
	Home          string // the ssh user's home, for relative AuthorizedKeysFile
	Repos         string // the repos root: no authorized_keys file may lie in it
	Config        string // the config file this gitserver read, absolute
	DefaultConfig string // the config gitserver reads without --config
	Self          string // this gitserver's path, for hints
	// IsSelf reports whether a program path names this gitserver (the
	// same file); nil compares paths.
	IsSelf func(prog string) bool
}

// Finding is one thing wrong, with what to do about it.
type Finding struct {
	What, Hint string
}

// Report is what Check found. Served is false when nothing in sshd's
// configuration for the user runs gitserver at all: a host where only
// 'gitserver serve' serves git, or one where the block never arrived.
type Report struct {
	Served   bool
	Via      string // "AuthorizedKeysCommand" or "ForceCommand" when Served
	Findings []Finding
}
