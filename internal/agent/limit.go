package agent

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/safehttp"
)

// The agent is one client address to each server, and the servers limit
// connections per client address (Consul 1.16: limits.http_max_conns_per_client
// 200; Nomad 1.6: 100; beyond, they answer 429 or close). Each profile's
// transport to a server opens at most connCaps connections
// (http.Transport.MaxConnsPerHost): over HTTP/1.1 (Nomad 1.6) a request
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

// http2Logs reports whether godebug turns on Go's HTTP/2 logging.
func http2Logs(godebug string) bool {
	for _, s := range strings.Split(godebug, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(s), "=")
		if k == "http2debug" && v != "" && v != "0" {
			return true
		}
	}
	return false
}

// inFlight is how many requests hold a slot.
func (l *limiter) inFlight() int { return len(l.slots) }
