package gitolite

import (
	"path"
	"regexp"
	"sync"
)

// pubSuffix is gitolite's rule for key file names: "alice.pub" and
// "alice@laptop.pub" are alice's, but an "@" part holding a dot stays,
// so "alice@example.com.pub" is user "alice@example.com".
var pubSuffix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(@[^.]+)?\.pub$`) })

// UserFromKeyFile returns the user a keydir file belongs to: its base
// name (subdirectories do not count) without ".pub" and without an
// "@suffix" that has no dot. ok is false for names not ending in ".pub".
func UserFromKeyFile(name string) (user string, ok bool) {
	base := path.Base(name)
	if !pubSuffix().MatchString(base) {
		return "", false
	}
	return pubSuffix().ReplaceAllString(base, ""), true
}
