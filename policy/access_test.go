package policy

import "testing"

func TestParseAccess(t *testing.T) {
	for _, a := range []Access{None, Read, Write} {
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
	for _, s := range []string{"", "wrte", "Read", "WRITE", " read", "admin"} {
		_, err := ParseAccess(s)
		want := `policy: unknown access "` + s + `" (want none, read or write)`
		if err == nil || err.Error() != want {
			t.Errorf("ParseAccess(%q) = %v, want %s", s, err, want)
		}
	}
}

func TestAccessOrder(t *testing.T) {
	if !(None < Read && Read < Write) {
		t.Errorf("levels out of order: none=%d read=%d write=%d", None, Read, Write)
	}
	if got := Access(9).String(); got != "Access(9)" {
		t.Errorf("Access(9).String() = %q", got)
	}
	if _, err := Access(9).MarshalText(); err == nil {
		t.Errorf("Access(9).MarshalText() succeeded")
	}
}
