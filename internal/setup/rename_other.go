//go:build !linux

package setup

// RenameNoReplace renames oldpath to newpath, failing with fs.ErrExist
// when newpath exists (checked first: there is a race with whoever
// creates newpath at the same moment).
func RenameNoReplace(oldpath, newpath string) error { return renameChecked(oldpath, newpath) }
