package version

import (
	"strings"
	"testing"
)

func TestStringAndBuildID(t *testing.T) {
	a := Info{Module: "m", Version: "v1.2.0", Revision: "abc", Time: "2026-01-01T00:00:00Z", Go: "go1.26"}
	if got, want := a.String(), "gitserver v1.2.0 (revision abc, 2026-01-01T00:00:00Z) go1.26"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	b := a
	b.Modified = true
	if !strings.Contains(b.String(), "modified") {
		t.Errorf("String() = %q, want it to say modified", b.String())
	}
	c := a
	c.Deps = []string{"x@v1"}
	for _, tt := range []struct {
		x, y Info
		same bool
	}{
		{a, a, true},
		{a, c, true}, // two programs of one build link different modules
		{a, b, false},
		{a, Info{Module: "m", Version: "v1.2.1", Revision: "abc", Time: a.Time, Go: a.Go}, false},
		{a, Info{Module: "m", Version: "v1.2.0", Revision: "abd", Time: a.Time, Go: a.Go}, false},
		{a, Info{Module: "m", Version: "v1.2.0", Revision: "abc", Time: a.Time, Go: "go1.27"}, false},
	} {
		if got := tt.x.BuildID() == tt.y.BuildID(); got != tt.same {
			t.Errorf("BuildID(%+v) == BuildID(%+v) is %v, want %v", tt.x, tt.y, got, tt.same)
		}
	}
}

func TestGet(t *testing.T) {
	i := Get()
	if i.Version == "" || i.Go == "" {
		t.Errorf("Get() = %+v, want a version and a Go version", i)
	}
	t.Logf("%s build id %s", i, i.BuildID())
}
