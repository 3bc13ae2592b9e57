package cli

import (
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gitserver/gitserver/internal/config"
	"github.com/hashicorp/go-hclog"
	proxyproto "github.com/pires/go-proxyproto"
)

// proxyTrust holds the trusted proxies of listen.proxy_protocol_from; a
// reload replaces them.
type proxyTrust struct {
	prefixes atomic.Pointer[[]netip.Prefix]
}

// trusts reports whether the peer at a is a trusted proxy.
func (p *proxyTrust) trusts(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(tcp.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	return slices.ContainsFunc(*p.prefixes.Load(), func(pre netip.Prefix) bool { return pre.Contains(ip) })
}

// policy is the PROXY protocol rule for one connection: a trusted proxy
// must send a header (else the connection is dropped), anyone else must
// not (else it is refused), so that no client can claim another address.
func (p *proxyTrust) policy(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
	if p.trusts(o.Upstream) {
		return proxyproto.REQUIRE, nil
	}
	return proxyproto.REJECT, nil
}

// proxied wraps l for the PROXY protocol when listen.proxy_protocol_from
// is set: the connections it accepts then give the header's source as
// their RemoteAddr, which the listener uses for the log, the limits and
// whoami. The header is read, within proxy_header_timeout, when the
// connection's handler first asks for the address, never in Accept.
func (c *ServeCmd) proxied(log hclog.Logger, cfg config.Listen, l net.Listener) (net.Listener, error) {
	prefixes, err := cfg.ProxyPrefixes()
	if err != nil || len(prefixes) == 0 {
		return l, err
	}
	c.trust = &proxyTrust{}
	c.trust.prefixes.Store(&prefixes)
	log.Info("PROXY protocol on", "trusted", cfg.ProxyProtocolFrom, "header_timeout", time.Duration(cfg.ProxyHeaderTimeout))
	return &proxyproto.Listener{Listener: l, ConnPolicy: c.trust.policy, ReadHeaderTimeout: time.Duration(cfg.ProxyHeaderTimeout)}, nil
}

// reloadProxies takes the trusted proxies of a reloaded config. Turning
// the PROXY protocol on or off needs a restart, as it changes what every
// connection starts with.
func (c *ServeCmd) reloadProxies(log hclog.Logger, cfg config.Listen) {
	prefixes, _ := cfg.ProxyPrefixes() // validated by config.Load
	switch {
	case c.trust == nil && len(prefixes) > 0:
		log.Warn("listen.proxy_protocol_from set; restart to turn the PROXY protocol on")
	case c.trust != nil && len(prefixes) == 0:
		log.Warn("listen.proxy_protocol_from emptied; restart to turn the PROXY protocol off; keeping the trusted proxies")
	case c.trust != nil:
		c.trust.prefixes.Store(&prefixes)
	}
}
