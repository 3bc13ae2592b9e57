// Package shell is the sshd side of the request path: it runs sshd's
// forced command ('gitserver shell') for one SSH session. It reads what
// sshd gives the process (SSH_ORIGINAL_COMMAND, GIT_PROTOCOL,
// SSH_CONNECTION, and SSH_USER_AUTH with ExposeAuthInfo) and hands the
// request to the one pipeline, shim.Shim.Serve, on the process's stdio.
// The SSH client sees only short, stable messages on stderr; the detail
// goes to the operator's log.
//
// sshd runs the forced command for every session, also for the later
// sessions of a connection multiplexed by the client (ControlMaster),
// without asking authorized-keys again: Serve decides each against the
// key store and policy as they are now.
package shell

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gitserver/gitserver/internal/setup"
	"github.com/gitserver/gitserver/keys/sshkey"
	"github.com/gitserver/gitserver/shim"
)

// Session is one run of the forced command.
type Session struct {
	shim.Stdio
	Getenv func(string) string // the environment sshd set
	Start  time.Time           // when the process started, for the log
	Ready  func()              // called before the request acts (shim.Shim.Ready)
}

// Run serves the request of user, with the key of fingerprint key (the
// forced command's --user and --key), or, both empty, of the keys sshd
// lists in SSH_USER_AUTH, with a's config and driver, and returns the
// exit code. A cancelled ctx ends git with SIGTERM: give it
// CatchSignals' ctx, and its ready as Ready, so that SIGHUP, SIGTERM and
// SIGINT (sshd's when the client goes away) do.
func (s *Session) Run(ctx context.Context, a *setup.App, user, key string) int {
	log := a.Log.Named("shell")
	req := shim.Request{User: user, Key: key, Command: s.Getenv("SSH_ORIGINAL_COMMAND"),
		Protocol: s.Getenv("GIT_PROTOCOL"), Client: ClientAddr(s.Getenv("SSH_CONNECTION"))}
	if user == "" {
		creds, err := AuthInfo(s.Getenv("SSH_USER_AUTH"), a.Cfg.SSHUser)
		if err != nil {
			log.Warn("no usable key in SSH_USER_AUTH", "client", req.Client, "error", err)
			return s.fail(shim.MsgDenied)
		}
		req.Credentials = creds
	}
	d, err := a.Driver()
	if err != nil {
		log.Error("cannot open driver", "error", err)
		return s.fail(shim.MsgUnavailable)
	}
	sh, err := a.Shim(d, log)
	if err != nil {
		log.Error("cannot serve requests", "error", err)
		return s.fail(shim.MsgUnavailable)
	}
	sh.Ready = s.Ready
	return sh.Serve(ctx, req, s.Stdio, s.Start)
}

// CatchSignals returns ctx, cancelled when the process gets SIGHUP,
// SIGTERM or SIGINT; ready, which returns once those signals are caught;
// and stop. It installs the handlers in the background, while the
// caller reads its config and plans the request: os/signal starts
// threads for them, and done in line that cost about 0.3 ms of every
// request, end to end (BenchmarkShell). The pipeline calls ready before
// it acts (shim.Shim.Ready), so that a signal from then on ends git with
// SIGTERM and the request is logged; a signal before that ends
// gitserver, which has done nothing yet.
//
// stop does not uninstall the handlers (signal.Stop waits for os/signal's
// goroutine to settle, which measured another 0.4 ms): the shell serves
// one request per process, and a signal between stop and the exit is
// dropped.
func CatchSignals(parent context.Context) (ctx context.Context, ready, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	caught := make(chan struct{})
	c := make(chan os.Signal, 1)
	go func() {
		signal.Notify(c, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
		close(caught)
		select {
		case <-c:
			cancel()
		case <-ctx.Done():
		}
	}()
	ready = func() { <-caught }
	return ctx, ready, cancel
}

// fail tells the client msg and returns exit code 1.
func (s *Session) fail(msg string) int {
	fmt.Fprintln(s.Stderr, msg)
	return 1
}

// AuthInfo reads the keys sshd recorded in the file path names
// (SSH_USER_AUTH, with ExposeAuthInfo yes), each proven by the client, as
// credentials for login.
func AuthInfo(path, login string) ([]shim.Credentials, error) {
	if path == "" {
		return nil, fmt.Errorf("SSH_USER_AUTH is not set; use the authorized-keys line or set ExposeAuthInfo yes")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	offered, err := shim.ParseAuthInfo(f)
	if err != nil {
		return nil, err
	}
	creds := make([]shim.Credentials, 0, len(offered))
	for _, o := range offered {
		k, err := sshkey.ParseKey(o.Type, o.Base64)
		if err != nil {
			return nil, err
		}
		creds = append(creds, shim.Credentials{LoginUser: login, KeyType: k.Type, Key: k.Blob, Fingerprint: k.Fingerprint})
	}
	return creds, nil
}

// ClientAddr is the client's address from sshd's SSH_CONNECTION, for the
// log: "IP:PORT", or "[IP]:PORT" for IPv6; empty when that is not
// "IP PORT IP PORT".
func ClientAddr(conn string) string {
	var ip, port string
	if _, err := fmt.Sscan(conn, &ip, &port); err != nil {
		return ""
	}
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	return ip + ":" + port
}
