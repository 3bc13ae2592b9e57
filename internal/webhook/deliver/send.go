// Package deliver sends the webhook queue's deliveries (package
// internal/webhook): it is the one part of webhooks that speaks HTTP,
// kept out of the gitserver binary (see cmd/gitserver-deliver).
package deliver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gitserver/gitserver/internal/bounded"
	"github.com/gitserver/gitserver/internal/webhook"
)

// ErrForbiddenAddress is a delivery to an address webhooks may not reach.
var ErrForbiddenAddress = errors.New("webhook: address not allowed")

// metadata are cloud instance-metadata addresses besides link-local
// 169.254.169.254: AWS's IPv6 one, Alibaba's.
var metadata = []netip.Addr{netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}

// CheckAddr decides whether a webhook may connect to ip: never to a
// link-local, metadata, unspecified or multicast address; to loopback and
// private (RFC 1918, ULA, CGNAT) ones only when allowPrivate.
func CheckAddr(ip netip.Addr, allowPrivate bool) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return fmt.Errorf("%w: %s is link-local, unspecified or multicast", ErrForbiddenAddress, ip)
	}
	for _, m := range metadata {
		if ip == m {
			return fmt.Errorf("%w: %s is a cloud metadata address", ErrForbiddenAddress, ip)
		}
	}
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	if (ip.IsLoopback() || ip.IsPrivate() || cgnat.Contains(ip)) && !allowPrivate {
		return fmt.Errorf("%w: %s is loopback or private (set allow_private = true in the webhook to allow it)", ErrForbiddenAddress, ip)
	}
	return nil
}

// client is an HTTP client whose every connection is checked by
// CheckAddr on the address dialled, and which follows no redirect.
func client(allowPrivate bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		return CheckAddr(ap.Addr(), allowPrivate)
	}}
	tr := &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout, MaxIdleConns: 1, IdleConnTimeout: time.Second}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// maxSecret bounds a secret file.
const maxSecret = 4096

func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := bounded.ReadAll(f, maxSecret, "secret file "+path)
	if err != nil {
		return nil, err
	}
	s := bytes.TrimRight(b, "\r\n")
	if len(s) == 0 {
		return nil, fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}

// send makes one attempt: POST the body, signed, and want a 2xx.
func send(ctx context.Context, d webhook.Delivery, now time.Time) error {
	secret, err := readSecret(d.SecretFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	sig := webhook.Sign(secret, d.Body)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "gitserver-webhook")
	h.Set("X-Gitserver-Event", d.Event)
	h.Set("X-Gitserver-Delivery", d.ID)
	h.Set("X-Gitserver-Timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("X-Gitserver-Signature-256", sig)
	if d.Format == "github" {
		h.Set("X-GitHub-Event", "push")
		h.Set("X-GitHub-Delivery", d.ID)
		h.Set("X-Hub-Signature-256", sig)
	}
	resp, err := client(d.AllowPrivate, d.Timeout).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// backoff is the wait after the n'th failed attempt: first, doubling
// each time, up to webhook.MaxDelay.
func backoff(n int, first time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < webhook.MaxDelay; i++ {
		d *= 2
	}
	return min(d, webhook.MaxDelay)
}

// errText is an error as one short line for the queue and the log.
func errText(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
