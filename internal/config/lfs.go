package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LFS configures Git LFS over SSH (git-lfs-transfer), served in both
// modes with the objects and locks in each repository's lfs directory.
type LFS struct {
	// Enabled serves git-lfs-transfer; default true.
	Enabled bool `toml:"enabled"`
	// MaxObjectSize bounds one uploaded object: bytes as an integer, or
	// a string with a unit, "10GiB", "500MB". Default 10GiB.
	MaxObjectSize Size `toml:"max_object_size"`
}

// DefaultLFS is [lfs] when the file leaves it out.
func DefaultLFS() LFS { return LFS{Enabled: true, MaxObjectSize: 10 << 30} }

// Size is a byte count, written in the file as an integer or as a string
// with a unit (B, KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB
// in powers of 1024).
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// ParseSize reads "10GiB", "500MB", "1048576".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is not a number of bytes such as 1048576, \"500MB\" or \"10GiB\"", s)
	}
	return Size(n * mult), nil
}

// UnmarshalText takes a string with a unit; TOML integers decode as
// plain bytes.
func (z *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*z = v
	return nil
}

func (l *LFS) validate() error {
	if l.MaxObjectSize < 1 {
		return fmt.Errorf("lfs.max_object_size must be at least 1 byte")
	}
	return nil
}

// Maintain configures serve's repository maintenance.
type Maintain struct {
	// Interval is how often 'gitserver serve' runs 'gitserver maintain
	// --all' (each repository is then maintained only when it needs
	// it); 0 turns it off, as behind sshd, where a systemd timer runs
	// it. Default 1h.
	Interval Duration `toml:"interval"`
}

// DefaultMaintain is [maintain] when the file leaves it out.
func DefaultMaintain() Maintain { return Maintain{Interval: Duration(time.Hour)} }

func (m *Maintain) validate() error {
	if m.Interval < 0 {
		return fmt.Errorf("maintain.interval must not be negative (0 turns it off)")
	}
	return nil
}
