package maintain

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/atomicfile"
)

// RecordFile, in a repository, says when gitserver last maintained it.
const RecordFile = "gitserver-maintenance.json"

// record is RecordFile's content.
type record struct {
	Last     time.Time `json:"last"`
	LastFull time.Time `json:"last_full_gc,omitempty"`
}

// Inspect reads what the repository at dir holds from its files, without
// running git: loose objects (objects/XX/*), packs (objects/pack/*.pack),
// loose refs, and RecordFile.
func Inspect(dir string) (State, error) {
	var st State
	objs := filepath.Join(dir, "objects")
	ents, err := os.ReadDir(objs)
	if err != nil {
		return st, err
	}
	for _, e := range ents {
		if n := e.Name(); len(n) == 2 && e.IsDir() && isHex(n) {
			sub, err := os.ReadDir(filepath.Join(objs, n))
			if err != nil {
				return st, err
			}
			st.Loose += len(sub)
		}
	}
	packs, err := os.ReadDir(filepath.Join(objs, "pack"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return st, err
	}
	for _, p := range packs {
		if strings.HasSuffix(p.Name(), ".pack") {
			st.Packs++
		}
	}
	_ = filepath.WalkDir(filepath.Join(dir, "refs"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			st.LooseRef++
		}
		return nil
	})
	rec, err := readRecord(dir)
	st.Last, st.LastFull = rec.Last, rec.LastFull
	return st, err
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func readRecord(dir string) (record, error) {
	var rec record
	f, err := os.Open(filepath.Join(dir, RecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return rec, err
	}
	if json.Unmarshal(b, &rec) != nil {
		return record{}, nil // unreadable: as if never maintained, which only maintains again
	}
	return rec, nil
}

func writeRecord(dir string, rec record, uid, gid int) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, RecordFile), append(b, '\n'), 0o644, uid, gid)
}
