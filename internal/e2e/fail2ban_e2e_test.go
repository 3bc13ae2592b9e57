package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fail2banFilter is the filter contrib ships for 'gitserver serve'.
const fail2banFilter = "../../contrib/fail2ban/filter.d/gitserver.conf"

// needFail2banRegex returns fail2ban-regex's path. Without it the test
// skips, or fails when CI is set (CI installs fail2ban).
func needFail2banRegex(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("fail2ban-regex")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and fail2ban-regex is missing (apt-get install fail2ban)")
		}
		t.Skip("fail2ban-regex not found (apt-get install fail2ban)")
	}
	return bin
}

// f2bSummary is fail2ban-regex's "Lines: N lines, I ignored, M matched,
// X missed".
var f2bSummary = regexp.MustCompile(`(?m)^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed`)

// fail2banRegex runs fail2ban-regex on log with the filter and returns
// how many lines it matched and the address it found in each.
func fail2banRegex(t *testing.T, bin, log string) (matched int, addrs []string) {
	t.Helper()
	out, err := exec.Command(bin, log, fail2banFilter).CombinedOutput()
	m := f2bSummary.FindStringSubmatch(string(out))
	if err != nil || m == nil {
		t.Fatalf("fail2ban-regex %s %s: %v\n%s", log, fail2banFilter, err, out)
	}
	t.Logf("fail2ban-regex: %s", m[0])
	matched, _ = strconv.Atoi(m[3])
	out, err = exec.Command(bin, "-o", "ip", log, fail2banFilter).CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-regex -o ip %s %s: %v\n%s", log, fail2banFilter, err, out)
	}
	return matched, strings.Fields(string(out))
}

// TestServeFail2ban logs in to 'gitserver serve' with real OpenSSH, in
// both log formats: contrib's fail2ban filter matches nothing after a
// successful login, then exactly the failure lines of a login with an
// unknown key from another address, and finds that address.
func TestServeFail2ban(t *testing.T) {
	t.Parallel()
	bin := needFail2banRegex(t)
	for _, c := range []struct {
		format  string
		failure string // what each failure line holds
	}{
		{"text", "gitserver.serve: authentication failed: "},
		{"json", `"@message":"authentication failed"`},
	} {
		t.Run(c.format, func(t *testing.T) {
			t.Parallel()
			s := newServed(t, "")
			cfg, err := os.ReadFile(s.cfg)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, s.cfg, strings.Replace(string(cfg), "[log]\n", "[log]\nformat = \""+c.format+"\"\n", 1))
			alice := s.client("alice", true)
			mallory := s.client("mallory", false)
			s.start()
			log := filepath.Join(s.data, "gitserver.log")

			if out, err := alice.ssh(nil, "help"); err != nil {
				t.Fatalf("alice: %v\n%s", err, out)
			}
			if n, addrs := fail2banRegex(t, bin, log); n != 0 || len(addrs) != 0 {
				t.Errorf("after a successful login: %d lines matched (%v), want none:\n%s", n, addrs, s.log())
			}

			out, err := mallory.ssh([]string{"-o", "BindAddress=127.0.0.2"}, "help")
			if err == nil || !strings.Contains(out, "Permission denied") {
				t.Fatalf("mallory (unknown key): %v\n%s", err, out)
			}
			failures := strings.Count(s.log(), c.failure)
			if failures != 1 {
				t.Errorf("%d failure lines for one key offered, want 1:\n%s", failures, s.log())
			}
			n, addrs := fail2banRegex(t, bin, log)
			if n != failures || len(addrs) != failures || slices.ContainsFunc(addrs, func(a string) bool { return a != "127.0.0.2" }) {
				t.Errorf("fail2ban-regex matched %d lines at %v, want %d at 127.0.0.2:\n%s", n, addrs, failures, s.log())
			}
		})
	}
}

// TestFail2banFilter runs fail2ban-regex on lines as gitserver writes
// them, some with what a client might send to move the address: the
// filter finds the client of each failure, IPv6 too, in both formats, and
// nothing else.
func TestFail2banFilter(t *testing.T) {
	t.Parallel()
	bin := needFail2banRegex(t)
	const (
		ts   = "2026-01-02T03:04:05.678Z"
		pfx  = ts + " [INFO]  gitserver.serve: authentication failed: "
		key  = `key="SHA256:n/G2FlZW6srDl5XMvzKBdVKhf6+B6Bm7WvQRs/isZYI"`
		js   = `{"@level":"info","@message":"authentication failed","@module":"gitserver.serve","@timestamp":"` + ts + `",`
		jkey = `"key":"SHA256:n/G2FlZW6srDl5XMvzKBdVKhf6+B6Bm7WvQRs/isZYI"`
	)
	lines := []struct {
		line string
		addr string // what the filter must find, "" for no match
	}{
		{pfx + `client=192.0.2.1:50412 login="git" method="publickey" ` + key + ` reason="unknown key"`, "192.0.2.1"},
		{pfx + `client=[2001:db8::1]:50412 login="git" method="publickey" ` + key + ` reason="bad signature"`, "2001:db8::1"},
		{pfx + `client=192.0.2.2:50412 login="git\" client=10.0.0.1:1 x=\"" method="publickey" ` + key + ` reason="wrong login name"`, "192.0.2.2"},
		{pfx + `client=192.0.2.3:50412 login="git" method="publickey" ` + key + ` reason="server error"`, ""},
		{pfx + `client=192.0.2.4:50412 login="x\" reason=\"server error\"" method="password" key="" reason="method not offered"`, "192.0.2.4"},
		{ts + ` [INFO]  gitserver.shell: request: decision=deny raw_command="x\n` + pfx + `client=10.0.0.2:1 login=\"git\""`, ""},
		{ts + ` [INFO]  gitserver.serve: connection open: client=10.0.0.3:50412 key=SHA256:x user=alice`, ""},
		{js + `"client":"198.51.100.1:40000",` + jkey + `,"login":"git","method":"publickey","reason":"unknown key"}`, "198.51.100.1"},
		{js + `"client":"[2001:db8::2]:40000","key":"","login":"git","method":"keyboard-interactive","reason":"method not offered"}`, "2001:db8::2"},
		{js + `"client":"198.51.100.2:40000",` + jkey + `,"login":"x\",\"client\":\"10.0.0.4:1","method":"publickey","reason":"wrong login name"}`, "198.51.100.2"},
		{js + `"client":"198.51.100.3:40000",` + jkey + `,"login":"git","method":"publickey","reason":"server error"}`, ""},
		{`{"@level":"info","@message":"connection open","@module":"gitserver.serve","@timestamp":"` + ts + `","client":"10.0.0.5:40000","user":"alice"}`, ""},
	}
	var body strings.Builder
	var want []string
	for _, l := range lines {
		body.WriteString(l.line + "\n")
		if l.addr != "" {
			want = append(want, l.addr)
		}
	}
	log := filepath.Join(t.TempDir(), "gitserver.log")
	writeFile(t, log, body.String())
	n, addrs := fail2banRegex(t, bin, log)
	if n != len(want) || !slices.Equal(addrs, want) {
		t.Errorf("fail2ban-regex matched %d lines at %v, want %d at %v", n, addrs, len(want), want)
	}
}
