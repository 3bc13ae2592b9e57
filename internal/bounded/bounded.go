// Package bounded reads inputs that have a size limit. An input over its
// limit is an error that names the limit, never an input silently cut
// short.
package bounded

import (
	"fmt"
	"io"
	"strconv"
)

// TooLargeError is an input over its limit.
type TooLargeError struct {
	What  string // the input, e.g. a file's path
	Limit int64  // in bytes
}

func (e *TooLargeError) Error() string {
	return e.What + " is larger than " + Size(e.Limit)
}

// ReadAll reads r to its end and returns what it read. More than limit
// bytes is a *TooLargeError; a read error is returned after what.
func ReadAll(r io.Reader, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{What: what, Limit: limit}
	}
	return data, nil
}

// Size is n bytes in the largest binary unit that divides it exactly:
// "4 MiB", "64 KiB", "1000 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	case n == 1:
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
