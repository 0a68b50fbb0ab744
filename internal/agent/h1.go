package agent

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// h1 is the agent's round trip for its most common request: a GET or
// HEAD without a body and without an upgrade, to a server that answers
// over HTTP/1.1 (Nomad 1.6; Vault over plain HTTP). The request's own
// goroutine writes it and reads the answer on a kept-alive connection.
// net/http's Transport hands every request to a connection's writer
// goroutine and its answer back from the connection's reader goroutine,
// and each hand-off can wake a thread: on a virtual machine that is
// most of what a small request costs the agent. Everything else (a
// body, a websocket, other methods, a server that chose HTTP/2, no free
// connection of h1's own) goes to std, as before.
//
// h1 keeps what std promises: the same dialer and TLS configuration
// (the configured CA or the system's roots, the server name, the
// login's client certificate), no proxy, no timeout on answers (a
// blocking query lasts as long as the server holds it), a request's end
// (its client gone, a logout) closes its connection, an answer's header
// is bounded, and a connection is reused only after its answer was read
// to the end and when nothing came on it since (quiet). Both dial
// through the same per-address connection slots (serverConns,
// limit.go), and std's own cap is lowered by h1's share.
type h1 struct {
	std  *http.Transport
	addr string      // host:port
	tls  *tls.Config // nil: plain HTTP
	// most is how many connections h1 holds at most (busy and idle).
	most int
	// h2: the server chose HTTP/2 in a handshake; std serves it.
	h2 atomic.Bool

	mu      sync.Mutex
	idle    []*h1Conn
	open    int
	closed  bool
	reaping bool // a reap goroutine runs
}

// h1Conns is h1's share of a server's connection cap.
const h1Conns = 16

// h1IdleMax is how long an idle connection is kept (std's
// IdleConnTimeout).
const h1IdleMax = 90 * time.Second

// h1HeaderMax bounds an answer's status line and header (std's
// MaxResponseHeaderBytes default is 10 MiB; the servers' are small).
const h1HeaderMax = 1 << 20

type h1Conn struct {
	c    net.Conn
	raw  syscall.RawConn // the TCP connection's, for quiet (nil: none)
	r    *countingConn
	br   *bufio.Reader
	bw   *bufio.Writer
	used time.Time // when it was last put back
}

// countingConn counts what is read, and fails a read past limit (when
// limit >= 0): the bound on an answer's header.
type countingConn struct {
	net.Conn
	n     int64
	limit int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	if c.limit >= 0 {
		if c.n >= c.limit {
			return 0, errHeaderTooLarge
		}
		p = p[:min(int64(len(p)), c.limit-c.n)]
	}
	n, err := c.Conn.Read(p)
	c.n += int64(n)
	return n, err
}

var errHeaderTooLarge = fmt.Errorf("the server's answer header is larger than %d bytes", h1HeaderMax)

// newH1 wraps std for the server at target, taking h1Conns of std's
// connection cap. std offers HTTP/2 in its TLS handshakes when
// ForceAttemptHTTP2 is set (upstreamTransport); then so does h1, to
// learn what the server chooses.
func newH1(std *http.Transport, target *url.URL) *h1 {
	addr := target.Host
	if target.Port() == "" {
		port := "80"
		if target.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(target.Hostname(), port)
	}
	t := &h1{std: std, addr: addr, most: h1Conns}
	if std.MaxConnsPerHost > 2*h1Conns {
		std.MaxConnsPerHost -= h1Conns
	} else {
		t.most = 0 // too small a cap to share: std alone
	}
	offerH2 := std.ForceAttemptHTTP2
	if target.Scheme == "https" {
		c := std.TLSClientConfig
		if c == nil {
			c = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		c = c.Clone()
		if c.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				c.ServerName = host
			}
		}
		c.NextProtos = []string{"http/1.1"}
		if offerH2 {
			c.NextProtos = []string{"h2", "http/1.1"}
		}
		t.tls = c
	}
	return t
}

// takes reports whether h1 serves r: a GET or HEAD without a body or an
// upgrade, while the server is not known to speak HTTP/2.
func (t *h1) takes(r *http.Request) bool {
	if t.h2.Load() || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		return false
	}
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 || r.Header.Get("Upgrade") != "" {
		return false
	}
	return r.URL.Scheme == "http" && t.tls == nil || r.URL.Scheme == "https" && t.tls != nil
}

func (t *h1) RoundTrip(r *http.Request) (*http.Response, error) {
	if !t.takes(r) {
		return t.std.RoundTrip(r)
	}
	c, reused, ok, err := t.conn(r.Context())
	if err != nil {
		return nil, err
	}
	if !ok {
		return t.std.RoundTrip(r)
	}
	resp, err := t.exchange(r, c)
	if err != nil && reused && errors.Is(err, errIdleClosed) && r.Context().Err() == nil {
		// The server had closed the idle connection before the request
		// reached it (nothing of an answer came back): once more on a
		// new connection, as std does for a GET.
		if c, _, ok, err = t.conn(r.Context()); err != nil {
			return nil, err
		}
		if !ok {
			return t.std.RoundTrip(r)
		}
		resp, err = t.exchange(r, c)
	}
	if errors.Is(err, errIdleClosed) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && r.Context().Err() != nil {
		err = r.Context().Err()
	}
	return resp, err
}

// errIdleClosed: the connection ended before any byte of an answer.
var errIdleClosed = errors.New("the server closed the connection")

// exchange writes r on c and reads the answer; the answer's body gives
// c back (or closes it) when it is read to its end or closed.
func (t *h1) exchange(r *http.Request, c *h1Conn) (*http.Response, error) {
	ctx := r.Context()
	stop := context.AfterFunc(ctx, func() { c.c.Close() })
	fail := func(err error) (*http.Response, error) {
		stop()
		t.drop(c)
		return nil, err
	}
	if err := r.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	start := c.r.n
	c.r.limit = c.r.n + h1HeaderMax
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(c.br, r)
		if err != nil {
			if c.r.n == start && c.br.Buffered() == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || isReset(err)) {
				err = errIdleClosed
			}
			return fail(err)
		}
		// 1xx answers before the real one (a GET sent no Expect and no
		// Upgrade: a 101 here is the server's error).
		if resp.StatusCode >= 200 || resp.StatusCode < 100 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return fail(errors.New("the server switched protocols unasked"))
		}
	}
	c.r.limit = -1
	keep := !resp.Close && !r.Close
	if resp.Body == http.NoBody {
		t.release(c, stop, keep)
		return resp, nil
	}
	resp.Body = &h1Body{body: resp.Body, t: t, c: c, stop: stop, keep: keep}
	return resp, nil
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// conn is an idle connection (reused) or a new one; ok false: h1 has
// none free and may not open one (std serves the request).
func (t *h1) conn(ctx context.Context) (c *h1Conn, reused, ok bool, err error) {
	now := time.Now()
	t.mu.Lock()
	for len(t.idle) > 0 {
		c = t.idle[len(t.idle)-1]
		t.idle = t.idle[:len(t.idle)-1]
		if now.Sub(c.used) < h1IdleMax && c.quiet() {
			t.mu.Unlock()
			return c, true, true, nil
		}
		t.open--
		c.c.Close()
	}
	if t.closed || t.open >= t.most {
		t.mu.Unlock()
		return nil, false, false, nil
	}
	t.open++
	t.mu.Unlock()
	nc, err := t.dial(ctx)
	if err != nil {
		t.mu.Lock()
		t.open--
		t.mu.Unlock()
		if errors.Is(err, errChoseH2) {
			return nil, false, false, nil
		}
		return nil, false, false, err
	}
	cc := &countingConn{Conn: nc, limit: -1}
	return &h1Conn{c: nc, raw: rawOf(nc), r: cc, br: bufio.NewReader(cc), bw: bufio.NewWriter(nc)}, false, true, nil
}

// rawOf is the raw connection under c (a TLS connection's TCP one).
func rawOf(c net.Conn) syscall.RawConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			return rc
		}
	}
	return nil
}

// quiet reports whether an idle connection holds nothing the server
// sent since its last answer ended: bytes past that answer (a second
// answer, a body longer than its length, a body after a 204, a 304 or
// a HEAD's answer) would be read as the next request's answer, and an
// end (the server's idle timeout, an alert) makes it useless. What Go
// already holds (the reader's buffer, a TLS record read with the last
// one) is looked at with a read that may not wait, what the kernel
// holds with a peek at the socket (peekable, h1_unix.go). net/http's
// Transport sees the same with a reader parked on every idle
// connection.
func (c *h1Conn) quiet() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if err := c.c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		return false
	}
	_, err := c.br.Peek(1)
	if c.c.SetReadDeadline(time.Time{}) != nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	return !peekable(c.raw)
}

// errChoseH2: the server chose HTTP/2 in the handshake.
var errChoseH2 = errors.New("the server chose HTTP/2")

func (t *h1) dial(ctx context.Context) (net.Conn, error) {
	dial := t.std.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", t.addr)
	if err != nil || t.tls == nil {
		return nc, err
	}
	hctx, cancel := context.WithTimeout(ctx, t.std.TLSHandshakeTimeout)
	defer cancel()
	tc := tls.Client(nc, t.tls)
	if err := tc.HandshakeContext(hctx); err != nil {
		nc.Close()
		return nil, err
	}
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		t.h2.Store(true)
		tc.Close()
		t.closeIdle()
		return nil, errChoseH2
	}
	return tc, nil
}

// release ends c's request: back to the idle list when keep and the
// request's end did not close it, closed otherwise.
func (t *h1) release(c *h1Conn, stop func() bool, keep bool) {
	if !stop() || !keep {
		t.drop(c)
		return
	}
	c.used = time.Now()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		t.drop(c)
		return
	}
	t.idle = append(t.idle, c)
	if !t.reaping {
		t.reaping = true
		go t.reap()
	}
	t.mu.Unlock()
}

// h1ReapEvery is how often idle connections are looked at while there
// are any: those the server closed (or sent something on) and those idle
// for h1IdleMax are closed. With none idle, nothing runs.
const h1ReapEvery = time.Second

func (t *h1) reap() {
	tick := time.NewTicker(h1ReapEvery)
	defer tick.Stop()
	for range tick.C {
		now := time.Now()
		t.mu.Lock()
		keep := t.idle[:0]
		var gone []*h1Conn
		for _, c := range t.idle {
			if now.Sub(c.used) < h1IdleMax && !peekable(c.raw) {
				keep = append(keep, c)
			} else {
				gone = append(gone, c)
			}
		}
		clear(t.idle[len(keep):])
		t.idle = keep
		t.open -= len(gone)
		done := len(t.idle) == 0
		if done {
			t.reaping = false
		}
		t.mu.Unlock()
		for _, c := range gone {
			c.c.Close()
		}
		if done {
			return
		}
	}
}

// drop closes c and frees its place.
func (t *h1) drop(c *h1Conn) {
	c.c.Close()
	t.mu.Lock()
	t.open--
	t.mu.Unlock()
}

// CloseIdleConnections retires h1 (the agent calls it when the
// profile closes or its transport is replaced): its idle connections
// and std's are closed, a connection in use is closed once its request
// ends, and no request takes a new one (std serves any that still
// come).
func (t *h1) CloseIdleConnections() {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.closeIdle()
	t.std.CloseIdleConnections()
}

func (t *h1) closeIdle() {
	t.mu.Lock()
	idle := t.idle
	t.idle = nil
	t.open -= len(idle)
	t.mu.Unlock()
	for _, c := range idle {
		c.c.Close()
	}
}

// h1Body is an answer's body on an h1 connection.
type h1Body struct {
	body io.ReadCloser
	t    *h1
	c    *h1Conn
	stop func() bool
	keep bool
	once sync.Once
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil {
		// The end (io.EOF): the connection is clean for the next
		// request; any other error: it is not.
		keep := b.keep && err == io.EOF
		b.once.Do(func() { b.t.release(b.c, b.stop, keep) })
	}
	return n, err
}

// Close before the end closes the connection (what is left of the
// answer is not read).
func (b *h1Body) Close() error {
	b.once.Do(func() { b.t.release(b.c, b.stop, false) })
	return nil
}
