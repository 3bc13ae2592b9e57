package sshkey

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gitserver/gitserver/keys"
)

// LineError is an error on one line of a multi-line input.
type LineError struct {
	Line int   // 1-based line number
	Err  error // what is wrong with the line
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns e.Err.
func (e *LineError) Unwrap() error { return e.Err }

// errLineTooLong reports a line over keys.MaxLineLen.
var errLineTooLong = fmt.Errorf("keys: line is longer than %d bytes", keys.MaxLineLen)

// ParseLines reads authorized_keys-style lines from r, as ParseLine does.
// Blank lines and lines whose first non-blank character is '#' are skipped.
// It returns the good keys in order and an error for every bad line; a
// read error ends the input and is returned as the error of the next line.
// Callers that want all or nothing check len(errs) > 0.
func ParseLines(r io.Reader) ([]keys.Key, []*LineError) {
	var ks []keys.Key
	var errs []*LineError
	lr := newLineReader(r)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return ks, errs
		}
		if err != nil {
			errs = append(errs, &LineError{Line: lr.n, Err: err})
			if !errors.Is(err, errLineTooLong) {
				return ks, errs
			}
			continue
		}
		if skip(line) {
			continue
		}
		k, err := ParseLine(line)
		if err != nil {
			errs = append(errs, &LineError{Line: lr.n, Err: err})
			continue
		}
		ks = append(ks, k)
	}
}

// ParseImport reads import lines, "USER KEYTYPE BASE64 [TITLE...]", from r,
// skipping blank lines and '#' comments. It calls fn with each good record
// in order, Added left zero, and returns the bad lines with their numbers.
// The error is fn's error, which stops the import, or a read error.
func ParseImport(r io.Reader, fn func(keys.Record) error) ([]*LineError, error) {
	var errs []*LineError
	lr := newLineReader(r)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return errs, nil
		}
		if errors.Is(err, errLineTooLong) {
			errs = append(errs, &LineError{Line: lr.n, Err: err})
			continue
		}
		if err != nil {
			return errs, fmt.Errorf("keys: line %d: %w", lr.n, err)
		}
		if skip(line) {
			continue
		}
		rec, err := parseImportLine(line)
		if err != nil {
			errs = append(errs, &LineError{Line: lr.n, Err: err})
			continue
		}
		if err := fn(rec); err != nil {
			return errs, err
		}
	}
}

// parseImportLine parses one "USER KEYTYPE BASE64 [TITLE...]" line.
func parseImportLine(line string) (keys.Record, error) {
	line = strings.Trim(line, " \t")
	user, rest := cutField(line)
	keyType, rest := cutField(rest)
	b64, title := cutField(rest)
	if b64 == "" {
		return keys.Record{}, errors.New(`keys: want "USER KEYTYPE BASE64 [TITLE]"`)
	}
	if err := keys.ValidUsername(user); err != nil {
		return keys.Record{}, err
	}
	if !isKeyTypeName(keyType) {
		return keys.Record{}, fmt.Errorf(`keys: %s is not a key type; want "USER KEYTYPE BASE64 [TITLE]"`, keys.Quote(keyType))
	}
	k, err := ParseKey(keyType, b64)
	if err != nil {
		return keys.Record{}, err
	}
	if err := keys.CheckTitle(title); err != nil {
		return keys.Record{}, err
	}
	return keys.Record{User: user, Title: title, Key: k}, nil
}

// skip reports whether a line is blank or a comment.
func skip(line string) bool {
	line = strings.TrimLeft(line, " \t")
	return line == "" || line[0] == '#'
}

// lineReader reads lines of at most keys.MaxLineLen bytes. A longer line is
// discarded and reported as errLineTooLong, and reading goes on.
type lineReader struct {
	br *bufio.Reader
	n  int // number of the line last returned
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, keys.MaxLineLen+2)}
}

// next returns the next line without its "\n" or "\r\n".
func (lr *lineReader) next() (string, error) {
	b, err := lr.br.ReadSlice('\n')
	if len(b) == 0 && err == io.EOF {
		return "", io.EOF
	}
	lr.n++
	if err == bufio.ErrBufferFull {
		return "", lr.discard()
	}
	if err != nil && err != io.EOF {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) > keys.MaxLineLen {
		return "", errLineTooLong
	}
	return s, nil
}

// discard skips the rest of an over-long line.
func (lr *lineReader) discard() error {
	for {
		_, err := lr.br.ReadSlice('\n')
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil, io.EOF:
			return errLineTooLong
		default:
			return err
		}
	}
}
