package agent

import (
	"context"
	"errors"
	"sync"
)

// The agent is one client address to each server, and the servers limit
// connections per client address (Consul 1.16: limits.http_max_conns_per_client
// 200; Nomad 1.6: 100; beyond, they answer 429 or close). Each route keeps
// its requests in flight under a cap below the server's (an HTTP/1.1
// request in flight holds one connection), queues up to queueFactor times
// the cap more, and answers the rest with its own 429.
var serverCaps = map[Kind]int{Nomad: 80, Consul: 160, Vault: 160}

const queueFactor = 4

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
