package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/alisw/alilogin/internal/safehttp"
)

// The agent is one client address to each server, and the servers limit
// connections per client address (Consul 1.16: limits.http_max_conns_per_client
// 200; Nomad 1.6: 100; beyond, they answer 429 or close). The agent
// opens at most connCaps connections to a server address, whatever
// profile they serve (serverConns, below): over HTTP/1.1 (Nomad 1.6) a request
// in flight holds a connection and the next waits for one; over HTTP/2
// (Consul 1.16 and Vault over TLS offer it) the requests share a few
// connections, so that 500 blocking queries are held at once on two or
// three. Beyond that, each server address keeps at most serverCaps
// requests in flight through the agent (waiting for a connection
// included), queues queueFactor times that more, and answers the rest
// with the agent's own 429: a bound on what the agent holds.
var (
	connCaps   = map[Kind]int{Nomad: 80, Consul: 160, Vault: 160}
	serverCaps = map[Kind]int{Nomad: 512, Consul: 512, Vault: 512}
)

const queueFactor = 1

// errBusy: the route's cap and queue are full.
var errBusy = errors.New("too many requests in flight through the agent")

// limiter is one server address's cap and queue, shared by every profile
// that uses the address.
type limiter struct {
	slots  chan struct{}
	mu     sync.Mutex
	queued int
	max    int // most queued
}

func newLimiter(n int) *limiter {
	return &limiter{slots: make(chan struct{}, n), max: queueFactor * n}
}

// acquire takes a slot, waiting in the queue when it may; release gives
// it back.
func (l *limiter) acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	default:
	}
	l.mu.Lock()
	if l.queued >= l.max {
		l.mu.Unlock()
		return nil, errBusy
	}
	l.queued++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.queued--
		l.mu.Unlock()
	}()
	select {
	case l.slots <- struct{}{}:
		return l.release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }

// limiters are the limiters by server address.
type limiters struct {
	mu sync.Mutex
	m  map[string]*limiter
}

func (ls *limiters) get(k Kind, addr string) *limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.m == nil {
		ls.m = map[string]*limiter{}
	}
	l := ls.m[addr]
	if l == nil {
		l = newLimiter(serverCaps[k])
		ls.m[addr] = l
	}
	return l
}

// upstreamTransport makes tr a transport to a server of kind k: at most
// connCaps[k] connections, and HTTP/2 where the server offers it over
// TLS, unless GODEBUG asks Go's HTTP/2 code to log (http2debug=1 prints
// every header it sends, the real token among them; =2 every frame):
// then HTTP/1.1 only (safehttp.HTTP1), as for every other client of
// alilogin.
func upstreamTransport(k Kind, tr *http.Transport) *http.Transport {
	tr.MaxConnsPerHost = connCaps[k]
	if http2Logs(os.Getenv("GODEBUG")) {
		return safehttp.HTTP1(tr)
	}
	tr.ForceAttemptHTTP2 = true
	return tr
}

// http2Logs reports whether godebug turns on Go's HTTP/2 logging: as
// Go decides (net/http's h2_bundle.go), when it contains
// "http2debug=1" or "http2debug=2" anywhere, whatever stands around it
// ("xhttp2debug=1" too); and, to be safe, any other non-zero
// http2debug setting.
func http2Logs(godebug string) bool {
	if strings.Contains(godebug, "http2debug=1") || strings.Contains(godebug, "http2debug=2") {
		return true
	}
	for _, s := range strings.Split(godebug, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(s), "=")
		if k == "http2debug" && v != "" && v != "0" {
			return true
		}
	}
	return false
}

// serverConns are the agent's connections to each server address,
// whatever profile they serve: the servers' limit is per client
// address, and two profiles may use one server. A dial takes a slot
// (waiting for one while the cap is reached), the connection's Close
// gives it back.
var serverConns = connSlots{m: map[string]chan struct{}{}}

type connSlots struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

func (cs *connSlots) of(k Kind, addr string) chan struct{} {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	key := string(k) + " " + addr
	c := cs.m[key]
	if c == nil {
		c = make(chan struct{}, connCaps[k])
		cs.m[key] = c
	}
	return c
}

// capDial makes dial take one of serverConns' slots of kind k for each
// connection it opens.
func capDial(k Kind, dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		slots := serverConns.of(k, addr)
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c, err := dial(ctx, network, addr)
		if err != nil {
			<-slots
			return nil, err
		}
		return &slotConn{Conn: c, free: sync.OnceFunc(func() { <-slots })}, nil
	}
}

// slotConn gives its slot back when closed.
type slotConn struct {
	net.Conn
	free func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.free()
	return err
}

// SyscallConn is the connection's own (h1's check for bytes waiting).
func (c *slotConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}

// inFlight is how many requests hold a slot.
func (l *limiter) inFlight() int { return len(l.slots) }
