package httpconf

import "testing"

// SetHelper makes the factory run path as the helper until t ends.
func SetHelper(t testing.TB, path string) {
	old := helperPath
	helperPath = func() (string, error) { return path, nil }
	t.Cleanup(func() { helperPath = old })
}
