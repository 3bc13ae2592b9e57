package httpconf

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/gitserver/gitserver/internal/version"
)

// Args are the helper's arguments for s: --name=value, so that no value
// is ever read as a flag. The first is this build's id (version.BuildID),
// which the helper checks against its own.
func (s Settings) Args() []string {
	args := []string{"--build-id=" + version.Get().BuildID(), "--url=" + s.URL}
	if s.TokenFile != "" {
		args = append(args, "--token-file="+s.TokenFile)
	}
	if s.CAFile != "" {
		args = append(args, "--ca-file="+s.CAFile)
	}
	return append(args, "--timeout="+time.Duration(s.Timeout).String())
}

// ParseArgs reads the helper's arguments, as Args writes them, and
// checks the settings. Usage and errors go to stderr.
func ParseArgs(args []string, stderr io.Writer) (Settings, error) {
	fs := flag.NewFlagSet(HelperName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s --build-id=ID --url=URL [--token-file=FILE] [--ca-file=FILE] [--timeout=5s]\n\n"+
			"Serves gitserver's driver protocol on stdin and stdout with POSTs to URL.\n"+
			"gitserver runs it for driver = \"http\"; see contrib/drivers/PROTOCOL.md.\n\n", HelperName)
		fs.PrintDefaults()
	}
	var s Settings
	buildID := fs.String("build-id", "", "the build id of the gitserver that runs this helper; it must be this helper's own")
	fs.StringVar(&s.URL, "url", "", "the API's base URL: https, or http to a loopback address")
	fs.StringVar(&s.TokenFile, "token-file", "", "file holding the bearer token (absolute path, not readable by others)")
	fs.StringVar(&s.CAFile, "ca-file", "", "PEM file of the only CAs trusted (absolute path)")
	timeout := fs.Duration("timeout", DefaultTimeout, "bound on each request")
	if err := fs.Parse(args); err != nil {
		return Settings{}, err
	}
	if fs.NArg() > 0 {
		return Settings{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := version.CheckPeer(HelperName, *buildID); err != nil {
		return Settings{}, err
	}
	s.Timeout = config.Duration(*timeout)
	return s, s.Check()
}
