package setup

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/gitserver/gitserver/internal/config"
)

// forged is a client string that, written as hclog writes a multi-line
// value, would put a line of its own in the log that reads as a record.
const forged = "x\nFAKE [INFO]  gitserver.shell: request decision=allow"

type stringer string

func (s stringer) String() string { return string(s) }

// timestamp starts every line of the text format.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[`)

// TestSingleLine logs client strings every way the logger takes them, in
// both formats, through the logger OpenLog builds: each record stays one
// line, the forged text stays inside it, escaped.
func TestSingleLine(t *testing.T) {
	cases := []struct {
		name string
		log  func(hclog.Logger)
		want string // in the text format's line
	}{
		{"string value", func(l hclog.Logger) { l.Info("m", "v", forged) }, `v="x\nFAKE [INFO]`},
		{"error value", func(l hclog.Logger) { l.Info("m", "error", errors.New(forged)) }, `error="x\nFAKE`},
		{"stringer value", func(l hclog.Logger) { l.Info("m", "v", stringer(forged)) }, `v="x\nFAKE`},
		{"message", func(l hclog.Logger) { l.Info(forged) }, `gitserver: "x\nFAKE`},
		{"key", func(l hclog.Logger) { l.Info("m", forged, 1) }, ` "x\nFAKE [INFO]  gitserver.shell: request decision=allow"=1`},
		{"value at odd end", func(l hclog.Logger) { l.Info("m", "k", "v", forged) }, `="x\nFAKE`},
		{"carriage return", func(l hclog.Logger) { l.Info("m", "v", "x\rFAKE") }, `v="x\rFAKE"`},
		{"tab", func(l hclog.Logger) { l.Info("m", "v", "x\tFAKE") }, `v="x\tFAKE"`},
		{"line separator", func(l hclog.Logger) { l.Info("m", "v", "x\u2028FAKE") }, `v="x\u2028FAKE"`},
		{"invalid UTF-8", func(l hclog.Logger) { l.Info("m", "v", "x\xffFAKE") }, `v="x\xffFAKE"`},
		{"Log", func(l hclog.Logger) { l.Log(hclog.Warn, "m", "v", forged) }, `[WARN]  gitserver: m: v="x\nFAKE`},
		{"each level", func(l hclog.Logger) { l.Error("m", "v", forged) }, `[ERROR] gitserver: m: v="x\nFAKE`},
		{"With", func(l hclog.Logger) { l.With("v", forged).Info("m") }, `v="x\nFAKE`},
		{"With key", func(l hclog.Logger) { l.With(forged, 1).Info("m") }, `"x\nFAKE [INFO]  gitserver.shell: request decision=allow"=1`},
		{"Named", func(l hclog.Logger) { l.Named("shell").With("a", 1).Warn("m", "v", forged) }, `gitserver.shell: m: a=1 v="x\nFAKE`},
		{"name", func(l hclog.Logger) { l.Named(forged).Info("m") }, `gitserver."x\nFAKE`},
		{"ResetNamed", func(l hclog.Logger) { l.ResetNamed("other").Info("m", "v", forged) }, `other: m: v="x\nFAKE`},
		{"StandardLogger", func(l hclog.Logger) { l.StandardLogger(nil).Print(forged) }, `[INFO]  gitserver: "x\nFAKE`},
		{"StandardWriter level", func(l hclog.Logger) {
			l.StandardWriter(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Write([]byte(forged + "\n"))
		}, `[ERROR] gitserver: "x\nFAKE`},
		{"quoted already", func(l hclog.Logger) { l.Info("m", "v", hclog.Quote(forged)) }, `v="x\nFAKE`},
		{"plain values stay", func(l hclog.Logger) { l.Info("m", "user", "alice", "n", 3, "e", errors.New("no such key")) }, `m: user=alice n=3 e="no such key"`},
	}
	for _, format := range []string{"text", "json"} {
		cfg := config.Default()
		cfg.DataDir, cfg.SSHUser = t.TempDir(), "root"
		cfg.Log.Format, cfg.Log.Level = format, "trace"
		log, closeLog := OpenLog(&cfg)
		defer closeLog()
		seen := 0
		for _, c := range cases {
			c.log(log)
			data, err := os.ReadFile(cfg.LogPath())
			if err != nil {
				t.Fatal(err)
			}
			got := string(data[seen:])
			seen = len(data)
			if strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
				t.Errorf("%s, %s: wrote %q, want one line", format, c.name, got)
				continue
			}
			line := strings.TrimSuffix(got, "\n")
			switch format {
			case "text":
				if !timestamp.MatchString(line) || !strings.Contains(line, c.want) {
					t.Errorf("%s, %s: wrote %q, want a record holding %q", format, c.name, line, c.want)
				}
			case "json":
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil || strings.Contains(c.want, "FAKE") && !strings.Contains(line, "FAKE") {
					t.Errorf("%s, %s: wrote %q, want one JSON record holding FAKE (%v)", format, c.name, line, err)
				}
			}
		}
	}
}

// TestSingleLineArgsUnchanged: quoting copies, and never changes the
// caller's slice (shim.Refusal's arguments are appended to by callers).
func TestSingleLineArgsUnchanged(t *testing.T) {
	args := []any{"v", forged}
	SingleLine(hclog.NewNullLogger()).Info("m", args...)
	if args[1] != forged {
		t.Errorf("args[1] = %#v after logging, want the caller's string", args[1])
	}
}
