package shim

import (
	"strings"
	"testing"
)

func TestParseRefUpdates(t *testing.T) {
	z, a, b := strings.Repeat("0", 40), strings.Repeat("a", 40), strings.Repeat("b", 40)
	good := z + " " + a + " refs/heads/main\n" + a + " " + b + " refs/tags/v1.0\n" + b + " " + z + " refs/heads/x/y"
	got, err := ParseRefUpdates(strings.NewReader(good))
	if err != nil || len(got) != 3 || got[1].Ref != "refs/tags/v1.0" || !IsZero(got[0].Old) || IsZero(got[1].Old) {
		t.Fatalf("ParseRefUpdates(good) = %+v, %v", got, err)
	}
	for _, bad := range []string{
		z + " " + a + " main",
		z + " " + a + " refs/heads/../x",
		z + " " + a + " refs/heads/a b",
		z + "  " + a + " refs/heads/a",
		z + " " + strings.ToUpper(a) + " refs/heads/a",
		z + " " + a[:39] + " refs/heads/a",
		z + " " + strings.Repeat("a", 64) + " refs/heads/a",
		z + " " + a + " refs/heads/a.lock",
		z + " " + a + " refs/heads/.hidden",
		z + " " + a + " refs/heads/a\x00",
		z + " " + a + " refs//a",
		z + " " + a + " refs/heads/a@{1}",
		strings.Repeat("x", 5000),
	} {
		if got, err := ParseRefUpdates(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseRefUpdates(%q) = %+v, want error", bad, got)
		}
	}
}

func FuzzParseRefUpdates(f *testing.F) {
	z, a := strings.Repeat("0", 40), strings.Repeat("a", 40)
	f.Add(z + " " + a + " refs/heads/main\n")
	f.Add("x y z")
	f.Fuzz(func(t *testing.T, s string) {
		us, err := ParseRefUpdates(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, u := range us {
			if !ValidRef(u.Ref) || !objectName(u.Old) || !objectName(u.New) {
				t.Fatalf("accepted %+v", u)
			}
		}
	})
}
