package shell

import "testing"

func TestClientAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1 51234 192.0.2.9 22": "192.0.2.1:51234",
		"::1 40000 ::1 22":             "[::1]:40000",
		"":                             "",
		"192.0.2.1":                    "",
	} {
		if got := ClientAddr(in); got != want {
			t.Errorf("ClientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
