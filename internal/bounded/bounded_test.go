package bounded

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: an input of exactly the limit is read whole; one byte more
// is an error naming the input and the limit, and nothing is returned.
func TestReadAll(t *testing.T) {
	for _, tt := range []struct {
		n       int
		limit   int64
		wantErr string
	}{
		{0, 0, ""},
		{0, 10, ""},
		{10, 10, ""},
		{11, 10, "in is larger than 10 bytes"},
		{1 << 20, 1 << 20, ""},
		{1<<20 + 1, 1 << 20, "in is larger than 1 MiB"},
		{5000, 4096, "in is larger than 4 KiB"},
	} {
		in := strings.Repeat("x", tt.n)
		got, err := ReadAll(strings.NewReader(in), tt.limit, "in")
		if tt.wantErr == "" {
			if err != nil || string(got) != in {
				t.Errorf("ReadAll(%d bytes, limit %d) = %d bytes, %v; want all of it", tt.n, tt.limit, len(got), err)
			}
			continue
		}
		var tl *TooLargeError
		if err == nil || err.Error() != tt.wantErr || !errors.As(err, &tl) || tl.Limit != tt.limit || got != nil {
			t.Errorf("ReadAll(%d bytes, limit %d) = %d bytes, %v; want nothing and %q", tt.n, tt.limit, len(got), err, tt.wantErr)
		}
	}
}

// TestReadAllError: a read error is returned, wrapped after the input's
// name, never taken for the end of the input.
func TestReadAllError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom))
	got, err := ReadAll(r, 100, "in")
	if !errors.Is(err, boom) || err.Error() != "in: boom" || got != nil {
		t.Fatalf("ReadAll(failing reader) = %q, %v; want nothing and in: boom", got, err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 1: "1 byte", 256: "256 bytes", 1000: "1000 bytes", 1024: "1 KiB",
		1536: "1536 bytes", 65536: "64 KiB", 1 << 20: "1 MiB", 4 << 20: "4 MiB", 3<<20 + 1024: "3073 KiB",
	} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
