package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Listen configures 'gitserver serve', the built-in SSH listener. The
// limits mirror sshd's: LoginGraceTime, MaxAuthTries, MaxStartups,
// PerSourceMaxStartups, ClientAlive*, MaxSessions.
type Listen struct {
	// Address is host:port to listen on, e.g. ":2222".
	Address string `toml:"address"`
	// HostKeys are private key files; a missing one is generated (ed25519).
	// Empty means DataDir/ssh_host_ed25519_key.
	HostKeys []string `toml:"host_keys"`
	// LoginGraceTime bounds the time from connect to authenticated.
	LoginGraceTime Duration `toml:"login_grace_time"`
	// MaxAuthTries bounds public keys tried per connection.
	MaxAuthTries int `toml:"max_auth_tries"`
	// MaxStartups bounds unauthenticated connections overall.
	MaxStartups int `toml:"max_startups"`
	// PerSourceMaxStartups bounds unauthenticated connections per source address.
	PerSourceMaxStartups int `toml:"per_source_max_startups"`
	// IdleTimeout closes a connection with no traffic for this long.
	IdleTimeout Duration `toml:"idle_timeout"`
	// MaxChannels bounds channels per connection.
	MaxChannels int `toml:"max_channels"`
	// DrainTimeout bounds how long SIGTERM waits for running git operations.
	DrainTimeout Duration `toml:"drain_timeout"`
	// ProxyProtocolFrom lists the trusted proxies (addresses or CIDR
	// prefixes, e.g. a TCP load balancer): a connection from one of them
	// must start with a PROXY protocol header (v1 or v2), whose source is
	// then the client's address everywhere (log, limits, whoami). A
	// connection from anyone else that starts with a header is refused.
	// Empty: PROXY protocol is off.
	ProxyProtocolFrom []string `toml:"proxy_protocol_from"`
	// ProxyHeaderTimeout bounds the wait for a trusted proxy's header.
	ProxyHeaderTimeout Duration `toml:"proxy_header_timeout"`
}

// ProxyPrefixes returns ProxyProtocolFrom as prefixes: an address is a
// prefix of its full length.
func (l *Listen) ProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range l.ProxyProtocolFrom {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("listen.proxy_protocol_from: %q is not an address or a prefix like \"10.0.0.0/8\"", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// DefaultListen is what serve uses for keys the file leaves out.
func DefaultListen() Listen {
	return Listen{
		Address:              "127.0.0.1:2222",
		LoginGraceTime:       Duration(30 * time.Second),
		MaxAuthTries:         6,
		MaxStartups:          100,
		PerSourceMaxStartups: 10,
		IdleTimeout:          Duration(10 * time.Minute),
		MaxChannels:          10,
		DrainTimeout:         Duration(60 * time.Second),
		ProxyHeaderTimeout:   Duration(5 * time.Second),
	}
}

func (l *Listen) validate() error {
	if !hostPort(l.Address) {
		return fmt.Errorf("listen.address %q: want host:port, e.g. \":2222\"", l.Address)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"max_auth_tries", l.MaxAuthTries}, {"max_startups", l.MaxStartups}, {"per_source_max_startups", l.PerSourceMaxStartups}, {"max_channels", l.MaxChannels}} {
		if v.n < 1 {
			return fmt.Errorf("listen.%s must be at least 1", v.name)
		}
	}
	for _, v := range []struct {
		name string
		d    Duration
	}{{"login_grace_time", l.LoginGraceTime}, {"idle_timeout", l.IdleTimeout}, {"drain_timeout", l.DrainTimeout}, {"proxy_header_timeout", l.ProxyHeaderTimeout}} {
		if v.d <= 0 {
			return fmt.Errorf("listen.%s must be positive, e.g. \"30s\"", v.name)
		}
	}
	_, err := l.ProxyPrefixes()
	return err
}

// Duration is a time.Duration written as a string: "30s", "10m".
type Duration time.Duration

// UnmarshalText parses a duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"30s\" or \"10m\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// hostPort reports whether a is "host:port", "[ipv6]:port" or ":port" with
// a decimal port, as net.Listen takes it; net itself would tell, but this
// package is linked into the process sshd starts at every login, which has
// no other use for net and its start-up cost.
func hostPort(a string) bool {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return false
	}
	host, port := a[:i], a[i+1:]
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || port[0] == '+' || port[0] == '-' {
		return false
	}
	if strings.HasPrefix(host, "[") {
		return strings.HasSuffix(host, "]") && strings.Count(host, "[") == 1 && strings.Count(host, "]") == 1 && len(host) > 2
	}
	return !strings.ContainsAny(host, ":[]")
}
