package execdriver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gitserver/gitserver/internal/execdriver/wire"
)

// process is a running driver program and our ends of its pipes.
type process struct {
	cmd    *exec.Cmd
	stdin  *os.File
	stdout *os.File
	br     *bufio.Reader
	stderr *tail
	waited chan struct{} // closed when cmd.Wait has returned
	err    error         // cmd.Wait's result, after waited
}

// env is the program's whole environment: nothing is inherited.
func env() []string {
	home := "/"
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		home = u.HomeDir
	}
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8"}
}

// start runs argv and shakes hands, within ctx.
func start(ctx context.Context, argv []string) (*process, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = env(), "/"
	cmd.Stdin, cmd.Stdout = inR, outW
	p := &process{cmd: cmd, stdin: inW, stdout: outR, br: bufio.NewReaderSize(outR, 64<<10), stderr: &tail{}, waited: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() { p.err = cmd.Wait(); close(p.waited) }()
	if err := p.handshake(ctx); err != nil {
		return nil, p.fail(fmt.Errorf("handshake: %w", err))
	}
	return p, nil
}

func (p *process) handshake(ctx context.Context) error {
	line, err := p.exchangeLine(ctx, wire.Hello{Protocol: wire.ProtocolName, Versions: []int{wire.Version}})
	if err != nil {
		return err
	}
	var h wire.Hello
	if err := json.Unmarshal(line, &h); err != nil || h.Protocol != wire.ProtocolName {
		return fmt.Errorf("%w: want {\"protocol\":%q,\"version\":%d}, got %s", wire.ErrMalformed, wire.ProtocolName, wire.Version, quote(line))
	}
	if h.Version != wire.Version {
		return fmt.Errorf("driver speaks protocol version %d, gitserver speaks %d", h.Version, wire.Version)
	}
	return nil
}

// exchange sends req and reads its response.
func (p *process) exchange(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	line, err := p.exchangeLine(ctx, req)
	if err != nil {
		return nil, err
	}
	r, err := wire.Decode(line)
	if err != nil {
		return nil, err
	}
	if r.ID != req.ID {
		return nil, fmt.Errorf("%w: answer to request %d, want %d", wire.ErrMalformed, r.ID, req.ID)
	}
	return r, nil
}

// exchangeLine writes msg as one JSON line and reads one line back, both
// within ctx's deadline.
func (p *process) exchangeLine(ctx context.Context, msg any) ([]byte, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	p.stdin.SetWriteDeadline(deadline)
	p.stdout.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() {
		p.stdin.SetWriteDeadline(time.Now())
		p.stdout.SetReadDeadline(time.Now())
	})
	defer stop()
	if _, err := p.stdin.Write(append(data, '\n')); err != nil {
		return nil, ioError("write", ctx, err)
	}
	line, err := readLine(p.br, wire.MaxMessage)
	if errors.Is(err, errBadLine) {
		return nil, fmt.Errorf("%w: %w", wire.ErrMalformed, err)
	}
	if err != nil {
		return nil, ioError("read", ctx, err)
	}
	return line, nil
}

// ioError says why a pipe operation failed in the operator's terms.
func ioError(what string, ctx context.Context, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return fmt.Errorf("%s: no answer in time: %w", what, context.DeadlineExceeded)
	case errors.Is(err, io.EOF), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%s: the driver closed its end: %w", what, io.EOF)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// errBadLine is wrapped by readLine's errors about a line's framing.
var errBadLine = errors.New("bad line")

// readLine reads one '\n'-terminated line of at most max bytes. Both
// sides of the protocol use it: it returns io.EOF at a clean end of
// input, and an error wrapping errBadLine for a line too long or cut off.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max {
			return nil, lineError{fmt.Sprintf("a line longer than %d bytes", max)}
		}
		line = append(line, frag...)
		if err == nil {
			return line, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return nil, lineError{"last line has no newline: " + quote(line)}
			}
			return nil, err
		}
	}
}

// fail ends the process after err and returns err with what the process
// left behind: its exit status and the end of its stderr. A process that
// closed its stdout gets a moment to exit by itself; any other is killed
// at once, with its process group.
func (p *process) fail(err error) error {
	if errors.Is(err, io.EOF) {
		select {
		case <-p.waited:
		case <-time.After(time.Second):
		}
	}
	p.kill()
	return fmt.Errorf("%w (%s)", err, p.state())
}

// kill kills the process group and waits for the process.
func (p *process) kill() {
	select {
	case <-p.waited:
	default:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.waited
	}
	p.stdin.Close()
	p.stdout.Close()
}

// state describes how the process ended, with its last stderr lines.
func (p *process) state() string {
	s := "driver " + p.cmd.ProcessState.String()
	if e := p.stderr.String(); e != "" {
		s += "; stderr: " + e
	}
	return s
}

// close closes the program's stdin and waits up to timeout for it to
// exit; then it is killed. A non-zero exit is an error.
func (p *process) close(timeout time.Duration) error {
	p.stdin.Close()
	select {
	case <-p.waited:
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("execdriver: driver did not exit within %v of its stdin closing; killed (%s)", timeout, p.state())
	}
	p.stdout.Close()
	if p.err != nil {
		return fmt.Errorf("execdriver: at close: %s", p.state())
	}
	return nil
}

// lineError is a framing error: its text, and errBadLine for errors.Is.
type lineError struct{ msg string }

func (e lineError) Error() string        { return e.msg }
func (e lineError) Is(target error) bool { return target == errBadLine }

func quote(b []byte) string {
	const n = 80
	if len(b) > n {
		return fmt.Sprintf("%q...", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// tail keeps the last bytes written to it: the driver's stderr, for the
// operator's log.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 2048

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > tailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailMax:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(strings.ToValidUTF8(string(t.buf), "?"))
}
