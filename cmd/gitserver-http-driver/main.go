// Command gitserver-http-driver serves gitserver's driver = "http": it
// speaks the exec driver's protocol on stdin and stdout
// (contrib/drivers/PROTOCOL.md) and answers each operation with a JSON
// POST to an application's internal API (internal/httpdriver).
//
// gitserver runs it from its own directory, with the [drivers.http]
// settings as flags; install it beside gitserver. It is a separate
// program so that net/http stays out of the gitserver binary, which sshd
// starts twice per login.
//
//	gitserver-http-driver --url=https://app.internal/gitserver \
//		--token-file=/etc/gitserver/driver-token --timeout=5s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gitserver/gitserver/internal/execdriver"
	"github.com/gitserver/gitserver/internal/httpdriver"
	"github.com/gitserver/gitserver/internal/httpdriver/httpconf"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run serves until stdin ends and returns the exit code: 0 at end of
// input, 1 for bad settings, 2 for a usage or protocol error. Its
// messages go to stderr, which gitserver keeps for its log.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, err := httpconf.ParseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", httpconf.HelperName, err)
		return 2
	}
	d, err := httpdriver.New(s)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", httpconf.HelperName, err)
		return 1
	}
	defer d.Close()
	if err := execdriver.Serve(ctx, stdin, stdout, d); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", httpconf.HelperName, err)
		return 2
	}
	return 0
}
