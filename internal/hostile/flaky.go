package hostile

import (
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// FlakyProxy is a reverse proxy on 127.0.0.1 to a real server (a Vault)
// that answers chosen requests itself with an error, as a load balancer
// or a Vault between leaders does, and passes every other request
// through. Every request is recorded, answered or passed.
type FlakyProxy struct {
	*Server

	mu     sync.Mutex
	faults []*Fault
}

// Fault is a planned answer of a FlakyProxy to the next Count requests
// that Match accepts.
type Fault struct {
	Match  func(*http.Request) bool
	Count  int    // how many requests get it
	Status int    // e.g. 503
	Body   string // e.g. {"errors":["Vault is sealed"]}
	served int
}

// NewFlakyProxy starts a proxy to target (a base URL such as
// http://127.0.0.1:8200). Close it with t.Cleanup(p.Close).
func NewFlakyProxy(target string) (*FlakyProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &FlakyProxy{}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = u.Host }}
	p.Server = NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := p.take(r); f != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	return p, nil
}

// Fail makes the proxy answer the next count requests that match accepts
// with status and body.
func (p *FlakyProxy) Fail(match func(*http.Request) bool, count, status int, body string) *Fault {
	f := &Fault{Match: match, Count: count, Status: status, Body: body}
	p.mu.Lock()
	p.faults = append(p.faults, f)
	p.mu.Unlock()
	return f
}

// Served is how many requests got f's answer so far.
func (p *FlakyProxy) Served(f *Fault) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return f.served
}

func (p *FlakyProxy) take(r *http.Request) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.faults {
		if f.served < f.Count && f.Match(r) {
			f.served++
			return f
		}
	}
	return nil
}
