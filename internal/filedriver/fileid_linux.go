package filedriver

import (
	"os"
	"syscall"
)

// fileID is what tells one version of a file from another without
// reading it: a rename puts another inode in place, a write changes the
// mtime or the size, and the ctime changes even when a tool restores the
// mtime (cp -p, rsync -t, tar).
type fileID struct {
	size, mtime, ctime int64 // times in nanoseconds since the epoch
	ino, dev           uint64
}

func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ctime = st.Ctim.Nano()
		id.ino, id.dev = uint64(st.Ino), uint64(st.Dev)
	}
	return id
}
