package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// fakeLoader serves credentials from next, counting the loads.
type fakeLoader struct {
	mu     sync.Mutex
	next   func(n int) (*Creds, error) // n: the load's number, from 1
	loads  atomic.Int32
	stored atomic.Bool
}

func (f *fakeLoader) Load(ctx context.Context, profile string, env []string, kinds []Kind) (*Creds, error) {
	n := int(f.loads.Add(1))
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next(n)
}

func (f *fakeLoader) Stored(context.Context, string, []string) (bool, error) {
	return f.stored.Load(), nil
}

// hourLoader serves credsFor(up) issued now and valid for an hour, on
// every load; stored is what Stored answers until a test changes it.
func hourLoader(up string, stored bool) *fakeLoader {
	now := time.Now()
	fl := &fakeLoader{next: func(int) (*Creds, error) { return credsFor(up, now, time.Hour), nil }}
	fl.stored.Store(stored)
	return fl
}

// streamLines is an upstream hook that answers a stream: "line N" every
// interval until the client goes away (nomad alloc logs -f, the event
// stream).
func streamLines(interval time.Duration) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

// upstream is a server standing in for Nomad, Consul and Vault: it
// records what it got and answers 200 with handler's help.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	hook func(w http.ResponseWriter, r *http.Request) // nil: 200 "ok"
}

func newUpstream(t *testing.T) *fakeServer {
	u := &fakeServer{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.reqs = append(u.reqs, r.Clone(context.Background()))
		h := u.hook
		u.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *fakeServer) got() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*http.Request(nil), u.reqs...)
}

// credsFor are credentials for every route at up, each token "real-K",
// valid for life from issued.
func credsFor(up string, issued time.Time, life time.Duration) *Creds {
	c := &Creds{Profile: "p", Tokens: map[Kind]*store.Token{}, Servers: map[Kind]Upstream{}}
	for _, k := range Kinds {
		c.Tokens[k] = &store.Token{Secret: secret.New("real-" + string(k)), IssuedAt: issued, ExpiresAt: issued.Add(life)}
		c.Servers[k] = Upstream{Addr: up}
	}
	return c
}

// testAgent is a running agent with a fake loader.
type testAgent struct {
	a      *Agent
	dir    string
	routes map[Kind]string // http://127.0.0.1:P
	stop   func()
}

// startAgent runs an agent in a private directory; o's Dir, UID, Ready
// and Stderr are filled in.
func startAgent(t testing.TB, o Options) *testAgent {
	t.Helper()
	dir := testutil.ShortTempDir(t, "agt", 0)
	o.Dir = dir
	if o.UID == 0 {
		o.UID = os.Getuid()
	}
	if o.Guard == nil {
		o.Guard = AllowAll{}
	}
	ready := make(chan struct{})
	o.Ready = func() { close(ready) }
	var ag *Agent
	o.running = func(a *Agent) { ag = a }
	var stderr strings.Builder
	var mu sync.Mutex
	o.Stderr = writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(b) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("the agent ended: %v", err)
	}
	ta := &testAgent{a: ag, dir: dir, routes: map[Kind]string{}}
	var once sync.Once
	ta.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("the agent: %v", err)
			}
		})
	}
	t.Cleanup(ta.stop)
	a, err := Call(context.Background(), dir, Request{Op: "status"})
	if err != nil || a.Status == nil {
		// (A refused status: the test reads the answer itself.)
		return ta
	}
	ta.routes = a.Status.Routes
	return ta
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// open opens profile p and returns the gates by server.
func (ta *testAgent) open(t testing.TB) map[Kind]string {
	t.Helper()
	return ta.gates(t, Request{Op: "open", Profile: "p"})
}

// gates sends req (open, elevate) and returns the gates of its answer by
// server.
func (ta *testAgent) gates(t testing.TB, req Request) map[Kind]string {
	t.Helper()
	a, err := Call(context.Background(), ta.dir, req)
	if err != nil || a.Error != "" {
		t.Fatalf("%s: %v %s", req.Op, err, a.Error)
	}
	g := map[Kind]string{}
	for _, x := range a.Gates {
		g[x.Server] = x.Gate
	}
	return g
}

// do sends a request to route k; set prepares it.
func (ta *testAgent) do(t *testing.T, k Kind, path string, set func(r *http.Request)) (int, string) {
	t.Helper()
	r, err := http.NewRequest("GET", ta.routes[k]+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if set != nil {
		set(r)
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// limiter is the agent's limiter of route k's server at addr.
func (ta *testAgent) limiter(t *testing.T, k Kind, addr string) *limiter {
	return ta.a.limits.get(k, addr)
}

func secretOf(s string) secret.String { return secret.New(s) }
