package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gitserver/gitserver/internal/config"
)

// TestLogOpenedAtFirstLine: a run that logs nothing creates no file; the
// first line creates it, mode 0640, and later runs append.
func TestLogOpenedAtFirstLine(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.SSHUser = "root"
	path := cfg.LogPath()
	log, closeLog := OpenLog(&cfg)
	log.Debug("below the level")
	closeLog()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("log file exists after logging nothing: %v", err)
	}
	for _, msg := range []string{"first", "second"} {
		log, closeLog := OpenLog(&cfg)
		log.Info(msg)
		closeLog()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != 2 || !strings.Contains(string(data), "first") || !strings.Contains(string(data), "second") {
		t.Errorf("log = %q, want the two lines", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("log mode %v, want 0640", fi.Mode().Perm())
	}
}

// TestLogUnwritable: lines are dropped, never sent elsewhere, when the
// file cannot be opened.
func TestLogUnwritable(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "missing")
	log, closeLog := OpenLog(&cfg)
	log.Error("nowhere to go")
	closeLog()
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Errorf("logging created %s: %v", cfg.DataDir, err)
	}
}
