package setup

import (
	"fmt"
	"io"
	"log"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
)

// SingleLine returns l with every record kept on one line.
//
// hclog's text format writes a value holding "\n" as an indented block of
// lines, and the message as it is. A string from the network (an
// SSH_ORIGINAL_COMMAND, a login name, a ref) could then spread one record
// over several lines and forge what reads as another record, to the
// operator and to fail2ban. SingleLine replaces the message, every key
// and every string, error or fmt.Stringer value whose text holds a
// control character (unicode.IsControl: \n, \r, \t, ESC...), a Unicode
// line or paragraph separator, or invalid UTF-8, by its Go-quoted form
// (hclog.Quote for values). Loggers made from it (With, Named, ResetNamed,
// StandardLogger) do the same. It is the safety net: strings a client
// sends are quoted with hclog.Quote where they are logged anyway.
func SingleLine(l hclog.Logger) hclog.Logger { return singleLine{l} }

// singleLine embeds the logger and overrides what writes or derives.
type singleLine struct{ hclog.Logger }

func (l singleLine) Log(level hclog.Level, msg string, args ...any) {
	l.Logger.Log(level, quoteText(msg), quoteArgs(args)...)
}

func (l singleLine) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l singleLine) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l singleLine) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l singleLine) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l singleLine) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l singleLine) With(args ...any) hclog.Logger {
	return singleLine{l.Logger.With(quoteArgs(args)...)}
}

func (l singleLine) Named(name string) hclog.Logger {
	return singleLine{l.Logger.Named(quoteText(name))}
}

func (l singleLine) ResetNamed(name string) hclog.Logger {
	return singleLine{l.Logger.ResetNamed(quoteText(name))}
}

// StandardWriter makes each Write one record of l, at opts.ForceLevel or
// else Info (hclog's level inference from "[WARN]" prefixes is not kept:
// such a prefix may come from the network too).
func (l singleLine) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	level := hclog.Info
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = opts.ForceLevel
	}
	return stdWriter{l, level}
}

func (l singleLine) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

type stdWriter struct {
	log   hclog.Logger
	level hclog.Level
}

func (w stdWriter) Write(p []byte) (int, error) {
	w.log.Log(w.level, strings.TrimRight(string(p), " \t\r\n"))
	return len(p), nil
}

// quoteArgs returns args with keys and values that would break the line
// quoted; args itself is not changed.
func quoteArgs(args []any) []any {
	var out []any
	for i, a := range args {
		isKey := i%2 == 0 && i+1 < len(args)
		q, ok := quoteArg(a, isKey)
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = q
	}
	if out == nil {
		return args
	}
	return out
}

// quoteArg returns the quoted form of a, and false when a is fine as it
// is. Keys are made plain quoted strings: hclog prints a key of another
// type, hclog.Quote included, with %s.
func quoteArg(a any, isKey bool) (any, bool) {
	var s string
	switch v := a.(type) {
	case string:
		s = v
	case error, fmt.Stringer:
		s = fmt.Sprint(v) // as hclog prints it, panics caught
	default:
		return nil, false // hclog.Quote, numbers, durations...
	}
	if !breaksLine(s) {
		return nil, false
	}
	if isKey {
		return strconv.Quote(s), true
	}
	return hclog.Quote(s), true
}

// quoteText is s, or s Go-quoted when it would break the line.
func quoteText(s string) string {
	if breaksLine(s) {
		return strconv.Quote(s)
	}
	return s
}

// breaksLine reports whether s holds a control character, a line or
// paragraph separator, or invalid UTF-8.
func breaksLine(s string) bool {
	return !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	})
}
