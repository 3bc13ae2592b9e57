package sshdconf

import "testing"

func TestInside(t *testing.T) {
	for _, tt := range []struct {
		path, dir string
		want      bool
	}{
		{"/srv/git", "/srv/git", true},
		{"/srv/git/home", "/srv/git", true},
		{"/srv/git/", "/srv/git", true},
		{"/srv/gitolite", "/srv/git", false},
		{"/srv", "/srv/git", false},
		{"/var/lib/gitserver-home", "/srv/git", false},
		{"relative", "/srv/git", false},
	} {
		if got := Inside(tt.path, tt.dir); got != tt.want {
			t.Errorf("Inside(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}
