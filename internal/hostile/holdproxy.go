package hostile

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// HoldProxy is a reverse proxy on 127.0.0.1 to a real server (a Vault,
// say) that holds back the responses to chosen requests until the test
// releases them: a server that is slow exactly where the test wants,
// without a fixed sleep on either side. Every request is recorded.
type HoldProxy struct {
	*Server

	mu    sync.Mutex
	holds []*Hold
}

// Hold is one held response.
type Hold struct {
	match   func(*http.Request) bool
	taken   bool
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

type holdKey struct{}

// NewHoldProxy starts a proxy to target (a base URL such as
// http://127.0.0.1:8200). Close it with t.Cleanup(p.Close); a held
// response still waiting is then dropped.
func NewHoldProxy(target string) (*HoldProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	p := &HoldProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u); r.Out.Host = u.Host },
		ModifyResponse: func(resp *http.Response) error {
			if h, ok := resp.Request.Context().Value(holdKey{}).(*Hold); ok {
				select {
				case <-h.release:
				case <-resp.Request.Context().Done():
				}
			}
			return nil
		},
	}
	p.Server = NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := p.take(r); h != nil {
			close(h.arrived)
			r = r.WithContext(context.WithValue(r.Context(), holdKey{}, h))
		}
		rp.ServeHTTP(w, r)
	}))
	return p, nil
}

// HoldNext holds the response to the next request that match accepts
// (only that one), from when the upstream server has answered it until
// Release.
func (p *HoldProxy) HoldNext(match func(*http.Request) bool) *Hold {
	h := &Hold{match: match, arrived: make(chan struct{}), release: make(chan struct{})}
	p.mu.Lock()
	p.holds = append(p.holds, h)
	p.mu.Unlock()
	return h
}

func (p *HoldProxy) take(r *http.Request) *Hold {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.holds {
		if !h.taken && h.match(r) {
			h.taken = true
			return h
		}
	}
	return nil
}

// Arrived is closed when the request reached the proxy (its response is
// then held as soon as the upstream server answers).
func (h *Hold) Arrived() <-chan struct{} { return h.arrived }

// Release lets the held response go (and any later one of this Hold).
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }
