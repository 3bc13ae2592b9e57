//go:build !unix

package filedriver

func minorFaults() (int64, bool) { return 0, false }
