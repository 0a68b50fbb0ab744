package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestProxyRefusesForeignHostAndOrigin: a request whose Host is not the
// route's own address (DNS rebinding: a page's own name resolving to
// 127.0.0.1, or another name of loopback), a foreign Origin or a
// cross-site Sec-Fetch-Site is refused before anything reaches the
// server, even with a valid gate; the server's CORS headers never come
// back.
func TestProxyRefusesForeignHostAndOrigin(t *testing.T) {
	up := newUpstream(t)
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, false)})
	g := ta.open(t)
	own := strings.TrimPrefix(ta.routes[Nomad], "http://")
	_, port, _ := strings.Cut(own, ":")
	for _, c := range []struct {
		name   string
		set    func(r *http.Request)
		status int
	}{
		{"Host attacker.example", func(r *http.Request) { r.Host = "attacker.example" }, http.StatusMisdirectedRequest},
		{"Host attacker.example with the port", func(r *http.Request) { r.Host = "attacker.example:" + port }, http.StatusMisdirectedRequest},
		{"Host localhost", func(r *http.Request) { r.Host = "localhost:" + port }, http.StatusMisdirectedRequest},
		{"foreign Origin", func(r *http.Request) { r.Header.Set("Origin", "http://attacker.example") }, http.StatusForbidden},
		{"null Origin", func(r *http.Request) { r.Header.Set("Origin", "null") }, http.StatusForbidden},
		{"another loopback port's Origin", func(r *http.Request) { r.Header.Set("Origin", "http://127.0.0.1:1") }, http.StatusForbidden},
		{"two Origins", func(r *http.Request) {
			r.Header.Add("Origin", "http://"+own)
			r.Header.Add("Origin", "http://attacker.example")
		}, http.StatusForbidden},
		{"cross-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"same-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") }, http.StatusForbidden},
		{"websocket from a page", func(r *http.Request) {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
			r.Header.Set("Sec-WebSocket-Version", "13")
			r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			r.Header.Set("Origin", "http://attacker.example")
		}, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := len(up.got())
			st, _ := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) {
				r.Header.Set("X-Nomad-Token", g[Nomad])
				c.set(r)
			})
			if st != c.status {
				t.Errorf("status %d, want %d", st, c.status)
			}
			if n := len(up.got()); n != before {
				t.Errorf("the server got the request")
			}
		})
	}
	// Served: the CLI's way, and the route's own origin; no CORS header.
	for _, origin := range []string{"", "http://" + own} {
		r, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs", nil)
		r.Header.Set("X-Nomad-Token", g[Nomad])
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("Origin %q: %d, Access-Control-Allow-Origin %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestProxyRefusesWhatIsNoGateOfItsRoute: no gate, a made-up gate, a
// gate of another route, an Authorization that is no bearer, two
// different tokens: refused, nothing forwarded.
func TestProxyRefusesWhatIsNoGateOfItsRoute(t *testing.T) {
	up := newUpstream(t)
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, false)})
	g := ta.open(t)
	for _, c := range []struct {
		name   string
		set    func(r *http.Request)
		status int
	}{
		{"no gate", func(r *http.Request) {}, http.StatusUnauthorized},
		{"made up", func(r *http.Request) { r.Header.Set("X-Consul-Token", "00000000-0000-4000-8000-000000000000") }, http.StatusUnauthorized},
		{"the real token", func(r *http.Request) { r.Header.Set("X-Consul-Token", "real-consul") }, http.StatusUnauthorized},
		{"Nomad's gate", func(r *http.Request) { r.Header.Set("X-Consul-Token", g[Nomad]) }, http.StatusUnauthorized},
		{"Nomad's gate in its own header", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }, http.StatusUnauthorized},
		{"basic auth", func(r *http.Request) { r.SetBasicAuth("u", g[Consul]) }, http.StatusBadRequest},
		{"two tokens", func(r *http.Request) {
			r.Header.Set("X-Consul-Token", g[Consul])
			r.Header.Set("Authorization", "Bearer 00000000-0000-4000-8000-000000000000")
		}, http.StatusBadRequest},
		{"gate and another ?token=", func(r *http.Request) {
			r.Header.Set("X-Consul-Token", g[Consul])
			r.URL.RawQuery = "token=other"
		}, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, _ := ta.do(t, Consul, "/v1/kv/x", c.set)
			if st != c.status {
				t.Errorf("status %d, want %d", st, c.status)
			}
		})
	}
	if n := len(up.got()); n != 0 {
		t.Errorf("the server got %d requests", n)
	}
	for _, where := range []func(r *http.Request){
		func(r *http.Request) { r.Header.Set("X-Consul-Token", g[Consul]) },
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+g[Consul]) },
		func(r *http.Request) { r.URL.RawQuery = "token=" + g[Consul] },
	} {
		if st, _ := ta.do(t, Consul, "/v1/kv/x", where); st != 200 {
			t.Errorf("a gate where Consul's clients send a token: %d", st)
		}
	}
}

// TestProxyReplacesEveryTokenOfTheClient: what reaches the server has
// the real token in the server's header and nothing of the client's:
// no X-Nomad-Token, X-Consul-Token, X-Vault-Token or Authorization it
// sent, no ?token= parameter (the other parameters kept), no Origin,
// Cookie or Proxy-Authorization.
func TestProxyReplacesEveryTokenOfTheClient(t *testing.T) {
	up := newUpstream(t)
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, false)})
	g := ta.open(t)
	own := strings.TrimPrefix(ta.routes[Consul], "http://")
	st, body := ta.do(t, Consul, "/v1/kv/a/b", func(r *http.Request) {
		r.URL.RawQuery = url.Values{"token": {g[Consul]}, "index": {"5"}, "wait": {"1s"}}.Encode()
		r.Header.Set("X-Consul-Token", g[Consul])
		r.Header.Set("Authorization", "Bearer "+g[Consul])
		r.Header.Set("X-Nomad-Token", "client-nomad")
		r.Header.Set("X-Vault-Token", "client-vault")
		r.Header.Set("Origin", "http://"+own)
		r.Header.Set("Cookie", "c=1")
		r.Header.Set("Proxy-Authorization", "Basic eDp5")
	})
	if st != 200 {
		t.Fatalf("status %d: %s", st, body)
	}
	got := up.got()
	if len(got) != 1 {
		t.Fatalf("the server got %d requests", len(got))
	}
	r := got[0]
	if v := r.Header.Values("X-Consul-Token"); len(v) != 1 || v[0] != "real-consul" {
		t.Errorf("X-Consul-Token at the server: %q", v)
	}
	for _, h := range []string{"X-Nomad-Token", "X-Vault-Token", "Authorization", "Origin", "Cookie", "Proxy-Authorization"} {
		if v := r.Header.Values(h); len(v) > 0 {
			t.Errorf("%s reached the server: %q", h, v)
		}
	}
	if q := r.URL.Query(); q.Has("token") || q.Get("index") != "5" || q.Get("wait") != "1s" {
		t.Errorf("query at the server: %q", r.URL.RawQuery)
	}
}

// TestProxyAsksForLoginWhenNeeded: when the renewal chain says only a new
// login helps, the client gets 401 with the command to run.
func TestProxyAsksForLoginWhenNeeded(t *testing.T) {
	up := newUpstream(t)
	old := time.Now().Add(-2 * time.Hour)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(n int) (*Creds, error) {
		if n == 1 {
			return credsFor(up.URL, old, 2*time.Hour+time.Second), nil // due at once
		}
		return nil, fmt.Errorf("%w: the SSO session ended", ErrLoginNeeded)
	}}})
	g := ta.open(t)
	st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
	if st != http.StatusUnauthorized || !strings.Contains(body, "run: alilogin login --profile p") {
		t.Errorf("%d %q, want 401 and the login to run", st, body)
	}
	if len(up.got()) != 0 {
		t.Errorf("the server got a request without a valid token")
	}
}

// TestRenewalIsOneLoadForAllRequests: many requests that find the token
// due at once make one load (one run of the renewal chain), and all are
// forwarded with the renewed token.
func TestRenewalIsOneLoadForAllRequests(t *testing.T) {
	up := newUpstream(t)
	old := time.Now().Add(-2 * time.Hour)
	fl := &fakeLoader{next: func(n int) (*Creds, error) {
		if n == 1 {
			return credsFor(up.URL, old, 2*time.Hour+10*time.Second), nil
		}
		c := credsFor(up.URL, time.Now(), time.Hour)
		c.Tokens[Nomad].Secret = secretOf("renewed-nomad")
		return c, nil
	}}
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 {
				t.Errorf("%d %s", st, body)
			}
		}()
	}
	wg.Wait()
	if n := fl.loads.Load(); n != 2 {
		t.Errorf("%d loads, want 2: the open and one renewal", n)
	}
	for _, r := range up.got() {
		if v := r.Header.Get("X-Nomad-Token"); v != "renewed-nomad" {
			t.Errorf("forwarded with %q", v)
		}
	}
}

// TestProxyAnswers429BeyondItsCap: with the server's cap of requests in
// flight taken and its queue full, the agent answers 429 itself; the
// queued requests are served once the first ones end.
func TestProxyAnswers429BeyondItsCap(t *testing.T) {
	old := serverCaps[Nomad]
	serverCaps[Nomad] = 1
	defer func() { serverCaps[Nomad] = old }()
	up := newUpstream(t)
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.WriteHeader(200)
	}
	ta := startAgent(t, Options{Loader: hourLoader(up.URL, false)})
	g := ta.open(t)
	gate := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
	var wg sync.WaitGroup
	statuses := make(chan int, 10)
	send := func() {
		wg.Add(1)
		go func() { defer wg.Done(); st, _ := ta.do(t, Nomad, "/v1/jobs", gate); statuses <- st }()
	}
	send()
	<-arrived // one in flight
	for i := 0; i < queueFactor; i++ {
		send()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := ta.limiter(t, Nomad, up.URL)
	for {
		l.mu.Lock()
		q := l.queued
		l.mu.Unlock()
		if q == queueFactor {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d queued, want %d", q, queueFactor)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if st, body := ta.do(t, Nomad, "/v1/jobs", gate); st != http.StatusTooManyRequests {
		t.Errorf("beyond the cap and the queue: %d %s, want 429", st, body)
	}
	close(release)
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if st != 200 {
			t.Errorf("a request within the cap or the queue got %d", st)
		}
	}
}
