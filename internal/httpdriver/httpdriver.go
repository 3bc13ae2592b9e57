// Package httpdriver is the "http" driver's client: the four driver
// operations as JSON POSTs to an application's internal API (url +
// "/authenticate", "/user_model", "/authorize", "/repopath";
// contrib/drivers/PROTOCOL.md). It links net/http, so only
// cmd/gitserver-http-driver uses it; gitserver registers "http" with
// internal/httpdriver/httpconf, which runs that program. It is
// configured by
//
//	driver = "http"
//
//	[drivers.http]
//	url        = "https://app.internal/gitserver"
//	token_file = "/etc/gitserver/driver-token"
//	ca_file    = "/etc/gitserver/internal-ca.pem"
//	timeout    = "5s"
//
// # Security
//
// TLS is verified by the standard library; with ca_file, only that CA is
// trusted. Plain http is accepted only to a loopback address, so neither
// the token nor the answers cross a network in the clear. No proxy is
// used and redirects are not followed (a redirect is a failure). The
// token file must not be readable by others. Every failure denies, with
// the reason in the returned error: a timeout, a status other than 200,
// a body over wire.MaxMessage or one that is not the expected JSON.
package httpdriver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gitserver/gitserver/internal/execdriver/wire"
	"github.com/gitserver/gitserver/internal/httpdriver/httpconf"
	"github.com/gitserver/gitserver/shim"
)

// DefaultTimeout bounds one request when the config sets no timeout.
const DefaultTimeout = httpconf.DefaultTimeout

// Settings is the [drivers.http] table, checked by httpconf.
type Settings = httpconf.Settings

// Driver is the http driver. Its methods are safe for concurrent use.
type Driver struct {
	wire.Client
	base    string
	token   string
	timeout time.Duration
	http    *http.Client
}

var _ shim.Driver = (*Driver)(nil)

// New checks s, reads the token and CA files, and returns the driver.
func New(s Settings) (*Driver, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	base, err := httpconf.BaseURL(s.URL)
	if err != nil {
		return nil, err
	}
	d := &Driver{base: base, timeout: time.Duration(s.Timeout)}
	if s.TokenFile != "" {
		if d.token, err = readToken(s.TokenFile); err != nil {
			return nil, err
		}
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		if tlsConf.RootCAs, err = readCA(s.CAFile); err != nil {
			return nil, err
		}
	}
	d.http = &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			TLSClientConfig:     tlsConf,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	d.Name, d.Do = "httpdriver", d.roundTrip
	return d, nil
}

func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("httpdriver: token_file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("httpdriver: token_file %s: want one line holding the token", path)
	}
	return tok, nil
}

func readCA(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("httpdriver: ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("httpdriver: ca_file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// roundTrip POSTs req to base/op and decodes the 200 answer.
func (d *Driver) roundTrip(ctx context.Context, op string, req *wire.Request) (*wire.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("httpdriver: %s: %w", op, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	if d.token != "" {
		hr.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.http.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("httpdriver: %s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxMessage+1))
	if err != nil {
		return nil, fmt.Errorf("httpdriver: %s: reading the answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("httpdriver: %s: status %s: %.200q", op, resp.Status, data)
	}
	r, err := wire.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("httpdriver: %s: %w", op, err)
	}
	return r, nil
}

// Close drops idle connections.
func (d *Driver) Close() error {
	d.http.CloseIdleConnections()
	return nil
}
