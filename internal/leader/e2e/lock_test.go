package e2e

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

var stack *teststack.Stack

func TestMain(m *testing.M) {
	os.Exit(teststack.Main(m, teststack.Options{NoVault: true, NoNomad: true, NoHydra: true, NoKeyring: true}, &stack))
}

// proxy stands between one instance and the real Consul. It counts what
// Consul answered the instance, so that a test waits for the instance's
// loop rather than for a fixed time, and it can be cut, as if the process
// behind it had died: no more renewals, no release.
type proxy struct {
	srv *httptest.Server
	cut atomic.Bool
	// refused counts the blocking reads of the lock key: a campaigning
	// instance (consul/api's Lock) makes one only after it read that
	// another session holds the key, so a follower that made one knows
	// that another instance holds the lock. (A leader's watch of its own
	// lock makes them too: count them on a follower's proxy.)
	refused atomic.Int32
	// renewed counts the session renewals Consul accepted.
	renewed atomic.Int32
}

func newProxy(t *testing.T, target string) *proxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	// An instance stopped in the middle of a blocking query is no error.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	c := &proxy{}
	rp.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method != http.MethodPut || resp.StatusCode != http.StatusOK {
			return nil
		}
		if strings.HasPrefix(r.URL.Path, "/v1/session/renew/") {
			c.renewed.Add(1)
		}
		return nil
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.cut.Load() {
			hj, ok := w.(http.Hijacker)
			if ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
			}
			return
		}
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/kv/") && r.URL.Query().Get("index") != "" {
			c.refused.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

type instance struct {
	name    string
	e       *leader.Elector
	cancel  context.CancelFunc
	done    chan struct{}
	leading atomic.Bool
	terms   atomic.Int32
}

func start(t *testing.T, key, name, addr string, active *atomic.Int32, overlap *atomic.Bool, opts ...func(*leader.Elector)) *instance {
	t.Helper()
	cl, err := apiclient.New("Consul", addr, "X-Consul-Token", apiclient.TLS{}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	cl = cl.WithToken(secret.New(stack.Consul.ManagementToken))
	in := &instance{name: name, done: make(chan struct{})}
	in.e = &leader.Elector{Consul: cl, Key: key, Identity: name, Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("instance", name)}
	for _, o := range opts {
		o(in.e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		defer close(in.done)
		_ = in.e.Run(ctx, func(lctx context.Context) {
			if active.Add(1) > 1 {
				overlap.Store(true)
			}
			in.terms.Add(1)
			in.leading.Store(true)
			<-lctx.Done()
			in.leading.Store(false)
			active.Add(-1)
		})
	}()
	t.Cleanup(func() { cancel(); <-in.done })
	return in
}

func leaders(ins ...*instance) []string {
	var out []string
	for _, in := range ins {
		if in.leading.Load() {
			out = append(out, in.name)
		}
	}
	return out
}

func waitOneLeader(t *testing.T, timeout time.Duration, ins ...*instance) (*instance, time.Duration) {
	t.Helper()
	t0 := time.Now()
	var l *instance
	one := testutil.Eventually(timeout, func() bool {
		n := 0
		for _, in := range ins {
			if in.leading.Load() {
				l = in
				n++
			}
		}
		return n == 1
	})
	if !one {
		t.Fatalf("no single leader after %s: %v", timeout, leaders(ins...))
	}
	return l, time.Since(t0)
}

func TestElection(t *testing.T) {
	var active atomic.Int32
	var overlap atomic.Bool
	key := fmt.Sprintf("test/leader-%d", time.Now().UnixNano())
	pa, pb := newProxy(t, stack.Consul.Addr), newProxy(t, stack.Consul.Addr)
	a := start(t, key, "a", pa.srv.URL, &active, &overlap)
	b := start(t, key, "b", pb.srv.URL, &active, &overlap)
	first, _ := waitOneLeader(t, 10*time.Second, a, b)
	// Stays exactly one while the follower is refused the lock and the
	// leader renews its session.
	lp, fp := pa, pb
	if first == b {
		lp, fp = pb, pa
	}
	renewed := lp.renewed.Load()
	testutil.WaitFor(t, 2*leader.DefaultTTL, "the follower refused the lock, the leader's session renewed", func() bool {
		if l := leaders(a, b); len(l) != 1 {
			t.Fatalf("leaders = %v", l)
		}
		return fp.refused.Load() > 0 && lp.renewed.Load() > renewed
	})
	h, err := leader.Current(context.Background(), first.e.Consul, key)
	if err != nil || h == nil || h.Identity != first.name {
		t.Fatalf("Current = %+v, %v; want %s", h, err, first.name)
	}
	other := b
	if first == b {
		other = a
	}
	// Graceful stop: the lock is released, the other leads at once.
	t0 := time.Now()
	first.cancel()
	<-first.done
	if _, _ = waitOneLeader(t, 5*time.Second, other); time.Since(t0) > 3*time.Second {
		t.Errorf("takeover after a clean stop took %s", time.Since(t0))
	}
	t.Logf("takeover after a clean stop: %s", time.Since(t0).Round(time.Millisecond))
	if overlap.Load() {
		t.Fatal("two leaders at once")
	}
}

func TestTakeoverAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name     string
		checkTTL time.Duration
		max      time.Duration
	}{
		// The session is bound to a 3s liveness check.
		{"liveness check", 0, leader.DefaultCheckTTL + leader.DefaultLockDelay + 3*time.Second},
		// Without it (ACL refused), the session TTL: up to 2 x 10s.
		{"session TTL only", -1, 2*leader.DefaultTTL + leader.DefaultLockDelay + 3*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var active atomic.Int32
			var overlap atomic.Bool
			key := fmt.Sprintf("test/crash-%d", time.Now().UnixNano())
			opt := func(e *leader.Elector) { e.CheckTTL = tc.checkTTL }
			proxy, pb := newProxy(t, stack.Consul.Addr), newProxy(t, stack.Consul.Addr)
			a := start(t, key, "a", proxy.srv.URL, &active, &overlap, opt)
			waitOneLeader(t, 10*time.Second, a)
			b := start(t, key, "b", pb.srv.URL, &active, &overlap, opt)
			// b has been refused the lock: it follows.
			testutil.WaitFor(t, 10*time.Second, "b refused the lock", func() bool { return pb.refused.Load() > 0 })
			if l := leaders(a, b); len(l) != 1 || l[0] != "a" {
				t.Fatalf("leaders = %v", l)
			}
			// a "dies": it can no longer talk to Consul (no renewal, no
			// release, no check pass).
			proxy.cut.Store(true)
			_, took := waitOneLeader(t, 3*leader.DefaultTTL, b)
			t.Logf("takeover after a crash: %s", took.Round(time.Millisecond))
			if took > tc.max {
				t.Errorf("takeover took %s, want at most %s", took, tc.max)
			}
			if overlap.Load() {
				t.Fatal("two leaders at once: the cut-off leader did not stop before its session was invalidated")
			}
		})
	}
}
