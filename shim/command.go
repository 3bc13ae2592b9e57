package shim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The git commands a client may run: the only verbs ParseCommand accepts.
const (
	UploadPack    = "git-upload-pack"    // fetch and clone
	ReceivePack   = "git-receive-pack"   // push
	UploadArchive = "git-upload-archive" // git archive --remote
	// LFSTransfer is Git LFS over SSH, "git-lfs-transfer PATH OP" with
	// OP LFSUpload or LFSDownload: served in-process (package
	// internal/lfs), not by git.
	LFSTransfer = "git-lfs-transfer"
	// LFSAuthenticate is what git-lfs runs to find an HTTP LFS server
	// when git-lfs-transfer fails (or is older than 3.0). There is none:
	// ParseCommand accepts it only so that the client hears so at once.
	LFSAuthenticate = "git-lfs-authenticate"
)

// The operations of LFSTransfer.
const (
	LFSUpload   = "upload"
	LFSDownload = "download"
)

// MaxCommandLen bounds the command line ParseCommand accepts, in bytes.
// The longest valid command, git-upload-archive with a quoted
// "/name.git" of MaxNameLen bytes, is under 300 bytes; 1024 leaves room
// for quoting and still bounds the hostile input before any parsing
// (git shell's CVE-2022-39260 was an overflow on an overly long command).
const MaxCommandLen = 1024

// maxEcho bounds how much of the client's input an error repeats.
const maxEcho = 64

// Command is a parsed SSH_ORIGINAL_COMMAND.
type Command struct {
	// Verb is UploadPack, ReceivePack, UploadArchive, LFSTransfer or
	// LFSAuthenticate.
	Verb string
	// Path is the single argument exactly as the client meant it, with
	// git's quoting undone, e.g. "owner/repo.git" or "/owner/repo.git".
	// It is not yet a repository name: pass it to CleanName.
	Path string
	// Op is LFSTransfer's operation, LFSUpload or LFSDownload; "" for
	// the git commands. For LFSAuthenticate it is what the client sent.
	Op string
}

// String returns c as git sends it: the verb, one space, and Path quoted
// the way git quotes it. ParseCommand(c.String()) returns c again as long
// as the quoted text fits in MaxCommandLen (each ' or ! takes four bytes).
func (c Command) String() string {
	if c.Op != "" {
		return c.Verb + " " + sqQuote(c.Path) + " " + c.Op
	}
	return c.Verb + " " + sqQuote(c.Path)
}

// ErrNoCommand is returned for an empty command, that is an interactive
// login: the caller prints a greeting and exits.
var ErrNoCommand = errors.New("shim: no command")

// ErrInvalidCommand is wrapped by every error ParseCommand returns for a
// command it refuses. The error text says why; it repeats at most a few
// bytes of the input, quoted, so it is safe to show to the client.
var ErrInvalidCommand = errors.New("shim: invalid command")

func invalidCommand(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidCommand}, args...)...)
}

// echo quotes client input for an error message, truncated to maxEcho
// bytes, so that no control character or unbounded text reaches a log or
// the client's terminal.
func echo(s string) string {
	if len(s) > maxEcho {
		return strconv.Quote(s[:maxEcho]) + "..."
	}
	return strconv.Quote(s)
}

// ParseCommand parses SSH_ORIGINAL_COMMAND, the hostile command line a
// client sent. It accepts exactly "VERB ARG" or "git SUBCOMMAND ARG",
// or "git-lfs-transfer ARG OP" (and git-lfs-authenticate likewise) with
// OP one word, for git-lfs-transfer "upload" or "download" only,
// with single spaces, where VERB is one of the verb constants and ARG is
// one argument, either single-quoted as git quotes it, or bare from
// letters, digits and -_./+@~: only. The argument must not be empty or
// start with "-" (it would be an option to git). No shell is involved,
// ever. Git quotes a'b!c as
//
//	'a'\''b'\!'c'
//
// It returns ErrNoCommand for "" and an error wrapping ErrInvalidCommand
// for anything else it refuses.
func ParseCommand(s string) (Command, error) {
	if s == "" {
		return Command{}, ErrNoCommand
	}
	if err := checkRaw(s); err != nil {
		return Command{}, err
	}
	verb, arg, err := splitVerb(s)
	if err != nil {
		return Command{}, err
	}
	op := ""
	if verb == LFSTransfer || verb == LFSAuthenticate {
		if arg, op, err = splitOp(verb, arg); err != nil {
			return Command{}, err
		}
	}
	path, err := parseArg(arg)
	if err != nil {
		return Command{}, err
	}
	return Command{Verb: verb, Path: path, Op: op}, nil
}

// splitOp splits an LFS command's "ARG OP" at its last space. The
// operation is a bare word; git-lfs-transfer takes upload or download.
func splitOp(verb, arg string) (string, string, error) {
	i := strings.LastIndexByte(arg, ' ')
	if i < 0 {
		return "", "", invalidCommand("%s needs a repository and an operation", verb)
	}
	arg, op := arg[:i], arg[i+1:]
	switch {
	case verb == LFSTransfer && op != LFSUpload && op != LFSDownload:
		return "", "", invalidCommand("%s operation %s is not upload or download", verb, echo(op))
	case op == "" || len(op) > 16 || strings.IndexFunc(op, func(r rune) bool { return r > 'z' || r < 'a' }) >= 0:
		return "", "", invalidCommand("%s operation %s is not a word", verb, echo(op))
	}
	return arg, op, nil
}

// checkRaw bounds the input and rejects what no valid command holds:
// invalid UTF-8 and non-printing characters (NUL, newline, CR, tab, other
// control and format characters) anywhere.
func checkRaw(s string) error {
	if len(s) > MaxCommandLen {
		return invalidCommand("longer than %d bytes", MaxCommandLen)
	}
	if !utf8.ValidString(s) {
		return invalidCommand("not valid utf-8")
	}
	if i := strings.IndexFunc(s, notPrint); i >= 0 {
		return invalidCommand("control character at byte %d", i)
	}
	return nil
}

// notPrint reports runes that may not appear in a command: everything
// but printable characters and the ASCII space.
func notPrint(r rune) bool { return !unicode.IsPrint(r) }

// splitVerb splits s into a verb and the rest after one space. The
// spaced form "git upload-pack ARG" becomes "git-upload-pack".
func splitVerb(s string) (verb, arg string, err error) {
	verb, arg, ok := strings.Cut(s, " ")
	shown := verb
	if verb == "git" && ok {
		var sub string
		sub, arg, ok = strings.Cut(arg, " ")
		verb, shown = "git-"+sub, "git "+sub
	}
	switch verb {
	case UploadPack, ReceivePack, UploadArchive, LFSTransfer, LFSAuthenticate:
	default:
		return "", "", invalidCommand("unsupported command %s", echo(shown))
	}
	if !ok {
		return "", "", invalidCommand("%s needs a repository argument", verb)
	}
	return verb, arg, nil
}

// parseArg turns the argument text into the path the client meant.
func parseArg(arg string) (string, error) {
	var (
		path string
		err  error
	)
	if strings.HasPrefix(arg, "'") {
		path, err = sqDequote(arg)
	} else {
		path, err = bareArg(arg)
	}
	switch {
	case err != nil:
		return "", err
	case path == "":
		return "", invalidCommand("empty repository argument")
	case path[0] == '-':
		return "", invalidCommand(`repository argument starts with "-"`)
	case strings.IndexFunc(path, notPrint) >= 0:
		// checkRaw already made this impossible; kept so that the
		// invariant does not depend on the order of checks.
		return "", invalidCommand("control character in repository argument")
	}
	return path, nil
}

// bareArg accepts an unquoted argument made only of characters no shell
// would treat specially.
func bareArg(arg string) (string, error) {
	if arg == "" {
		return "", invalidCommand("expected one argument after a single space")
	}
	for i := 0; i < len(arg); i++ {
		switch c := arg[i]; {
		case c == ' ':
			return "", invalidCommand("more than one argument")
		case !bareSafe(c):
			return "", invalidCommand("unquoted %q at byte %d of argument", c, i)
		}
	}
	return arg, nil
}

// bareSafe reports whether c may appear in an unquoted argument.
func bareSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_./+@~:", c) >= 0
}

// sqDequote undoes git's sq_quote_buf, strictly as git's sq_dequote does:
// arg must be a quoted run 'text' followed by zero or more \' or \! each
// followed by another quoted run, and nothing else.
func sqDequote(arg string) (string, error) {
	var b strings.Builder
	i := 0 // arg[i] is an opening quote
	for {
		j := strings.IndexByte(arg[i+1:], '\'')
		if j < 0 {
			return "", invalidCommand("unbalanced quote in argument")
		}
		b.WriteString(arg[i+1 : i+1+j])
		i += j + 2 // just past the closing quote
		rest := arg[i:]
		switch {
		case rest == "":
			return b.String(), nil
		case len(rest) >= 3 && rest[0] == '\\' && needsBackslash(rest[1]) && rest[2] == '\'':
			b.WriteByte(rest[1])
			i += 2
		case rest[0] == ' ':
			return "", invalidCommand("more than one argument")
		default:
			return "", invalidCommand("bad quoting in argument")
		}
	}
}

// needsBackslash reports the characters git's quoting writes outside the
// quotes, backslashed: the quote itself, and "!" for csh.
func needsBackslash(c byte) bool { return c == '\'' || c == '!' }

// sqQuote quotes s as git's sq_quote_buf does: the text in single quotes,
// each ' or ! in it closing the quotes, backslashed, and reopening them.
func sqQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; needsBackslash(c) {
			b.WriteString(`'\`)
			b.WriteByte(c)
			b.WriteByte('\'')
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
