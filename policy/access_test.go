package policy

import "testing"

func TestParseAccess(t *testing.T) {
	for _, a := range []Access{None, Read, Write, Force, Create, Admin} {
		got, err := ParseAccess(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAccess(%q) = %v, %v; want %v", a.String(), got, err, a)
		}
		text, err := a.MarshalText()
		if err != nil || string(text) != a.String() {
			t.Errorf("%v.MarshalText() = %q, %v", a, text, err)
		}
		var b Access
		if err := b.UnmarshalText(text); err != nil || b != a {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, b, err, a)
		}
	}
	for _, s := range []string{"", "wrte", "Read", "WRITE", " read", "Admin", "owner"} {
		_, err := ParseAccess(s)
		want := `policy: unknown access "` + s + `" (want none, read, write, force, create or admin)`
		if err == nil || err.Error() != want {
			t.Errorf("ParseAccess(%q) = %v, want %s", s, err, want)
		}
	}
}

func TestAccessOrder(t *testing.T) {
	levels := []Access{None, Read, Write, Force, Create, Admin}
	for i := 1; i < len(levels); i++ {
		if levels[i-1] >= levels[i] {
			t.Errorf("levels out of order: %v=%d >= %v=%d", levels[i-1], levels[i-1], levels[i], levels[i])
		}
	}
	if got := Access(9).String(); got != "Access(9)" {
		t.Errorf("Access(9).String() = %q", got)
	}
	if _, err := Access(9).MarshalText(); err == nil {
		t.Errorf("Access(9).MarshalText() succeeded")
	}
}
