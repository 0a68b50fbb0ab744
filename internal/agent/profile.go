package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// renewMargin is how long a token must stay valid for a request to use
// it without asking the renewal chain (renew.DefaultMinTTL's margin, or
// half a short token's life).
const renewMargin = 5 * time.Minute

// profile is one opened profile: its credentials in memory, the
// environment of the alilogin that opened it (the configuration, store
// and keyring its renewals use), and a transport per server.
type profile struct {
	name   string
	loader Loader
	now    func() time.Time

	mu    sync.Mutex // one load at a time
	env   []string
	creds atomic.Pointer[Creds]
	tr    atomic.Pointer[map[Kind]*upstream] // replaced whole under mu

	requests, errors atomic.Int64
	lastErr          atomic.Pointer[string]

	// inflight are the requests being served with the profile's token
	// (streams, websockets, blocking queries): close ends them all.
	flightMu sync.Mutex
	inflight inflight
	closed   bool

	// win is the open attended window (elevated.go), nil when none.
	winMu sync.Mutex
	win   *window
}

// track gives r a context that close cancels, and the function that
// forgets it once served; ok false when the profile was closed already.
func (p *profile) track(ctx context.Context) (context.Context, func(), bool) {
	p.flightMu.Lock()
	defer p.flightMu.Unlock()
	return p.inflight.trackLocked(ctx, &p.flightMu, p.closed)
}

// upstream is a profile's transport to one server.
type upstream struct {
	conf Upstream
	tr   roundTripper
	// target is conf.Addr parsed once (nil: invalid), not per request.
	target *url.URL
}

// roundTripper is an upstream's transport: net/http's, or h1 in front
// of it (h1.go).
type roundTripper interface {
	http.RoundTripper
	CloseIdleConnections()
}

// load asks the loader for the profile's credentials (for kinds; all it
// has when empty) and rebuilds the transports whose server changed.
func (p *profile) load(ctx context.Context, kinds []Kind) (*Creds, error) {
	c, err := p.loader.Load(ctx, p.name, p.env, kinds)
	if err != nil {
		return nil, err
	}
	trs := map[Kind]*upstream{}
	if old := p.tr.Load(); old != nil {
		maps.Copy(trs, *old)
	}
	for k, u := range c.Servers {
		if old := trs[k]; old != nil && old.conf == u {
			continue
		}
		tr, err := p.transport(k, u)
		if err != nil {
			return nil, fmt.Errorf("could not set up the %s route of profile %s: %w", k.Title(), p.name, err)
		}
		if old := trs[k]; old != nil {
			old.tr.CloseIdleConnections()
		}
		target, err := url.Parse(u.Addr)
		if err != nil {
			target = nil // forward refuses: the server address is invalid
		}
		var rt roundTripper = tr
		if target != nil && (target.Scheme == "http" || target.Scheme == "https") {
			rt = newH1(tr, target)
		}
		trs[k] = &upstream{conf: u, tr: rt, target: target}
	}
	p.tr.Store(&trs)
	p.creds.Store(c)
	return c, nil
}

// upstream is the transport of route k, nil when none.
func (p *profile) upstream(k Kind) *upstream {
	if m := p.tr.Load(); m != nil {
		return (*m)[k]
	}
	return nil
}

// current returns the credentials and the transport for route k,
// renewed when the token is due or another alilogin changed the stored
// login (its generation moved: a login, a renewal, a logout).
func (p *profile) current(ctx context.Context, k Kind) (*Creds, *upstream, error) {
	if c := p.creds.Load(); c != nil && p.usable(c, k) {
		if u := p.upstream(k); u != nil {
			return c, u, nil
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.creds.Load()
	if c == nil || !p.usable(c, k) {
		var err error
		if c, err = p.load(ctx, []Kind{k}); err != nil {
			return nil, nil, err
		}
	}
	if c.Tokens[k] == nil {
		return nil, nil, fmt.Errorf("profile %s has no %s token (the profile may not grant one)", p.name, k.Title())
	}
	u := p.upstream(k)
	if u == nil {
		return nil, nil, fmt.Errorf("profile %s has no %s server configured", p.name, k.Title())
	}
	return c, u, nil
}

// usable: c's token for k and its certificate are fresh, and the stored
// login is the one c was read from.
func (p *profile) usable(c *Creds, k Kind) bool {
	now := p.now()
	if !fresh(c.Tokens[k], now, renewMargin) {
		return false
	}
	if k != Vault && c.Cert != nil && c.Servers[k].RecordCert && !c.Cert.Fresh(now, renewMargin) {
		return false
	}
	if c.Watch != nil {
		if gen, ok := c.Watch(); ok && gen != c.Gen {
			return false
		}
	}
	return true
}

// token is the real token of route k in c.
func (c *Creds) token(k Kind) secret.String {
	if t := c.Tokens[k]; t != nil {
		return t.Secret
	}
	return secret.String{}
}

// transport is the HTTP transport to u: the CLI's TLS checks
// (apiclient.TLS: the configured CA or the system's roots, the server
// name), the login's client certificate from memory where none was
// configured by hand, HTTP/2 where the server offers it over TLS and at
// most connCaps connections (upstreamTransport, limit.go), no proxy from
// the environment (the agent's own, inherited from whichever shell
// started it, must not see the real tokens), and no timeout on answers:
// blocking queries and streams last as long as the server holds them.
func (p *profile) transport(k Kind, u Upstream) (*http.Transport, error) {
	tc, err := u.TLS.Config()
	if err != nil {
		return nil, err
	}
	if u.RecordCert {
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tc.GetClientCertificate = p.clientCert
	}
	return upstreamTransport(k, &http.Transport{
		DialContext:           capDial(k, (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext),
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}), nil
}

// clientCert presents the login's current certificate (a renewal may
// have replaced it since the transport was made).
func (p *profile) clientCert(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c := p.creds.Load()
	if c == nil || c.Cert == nil {
		return &tls.Certificate{}, nil // none: the server refuses
	}
	pair, err := tls.X509KeyPair([]byte(c.Cert.CertPEM+"\n"+c.Cert.ChainPEM), []byte(c.Cert.Key.Reveal()))
	if err != nil {
		return nil, errors.New("could not use the login's client certificate")
	}
	return &pair, nil
}

// close drops the credentials, ends every request in flight (a stream or
// a websocket opened with a gate dies with the gate) and closes the idle
// connections.
func (p *profile) close() {
	// The agent ends a window before it closes its profile (endWindow,
	// which logs); this is the backstop.
	if w := p.currentWindow(); w != nil && w.end() {
		p.clearWindow(w)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = w.revoke(ctx)
		cancel()
	}
	p.flightMu.Lock()
	p.closed = true
	p.inflight.cancelAll()
	p.flightMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creds.Store(nil)
	if m := p.tr.Load(); m != nil {
		for _, u := range *m {
			u.tr.CloseIdleConnections()
		}
	}
}

// servers are the profile's configured servers, for status.
func (p *profile) servers() map[Kind]string {
	out := map[Kind]string{}
	if c := p.creds.Load(); c != nil {
		for k, u := range c.Servers {
			out[k] = u.Addr
		}
	}
	return out
}

func (p *profile) fail(msg string) {
	p.errors.Add(1)
	p.lastErr.Store(&msg)
}

// sameEnv reports whether env is the environment p was opened with.
func (p *profile) sameEnv(env []string) bool { return slices.Equal(p.env, env) }
