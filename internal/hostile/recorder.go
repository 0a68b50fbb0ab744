package hostile

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Request is what a hostile server received.
type Request struct {
	Method string
	Path   string // with the query
	Proto  string // "HTTP/1.1", "HTTP/2.0"
	Header http.Header
	Body   []byte
}

// Recorder keeps every request a handler saw.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Wrap returns h that first records each request (its body read fully and
// put back for h).
func (rc *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, Request{Method: r.Method, Path: r.URL.RequestURI(), Proto: r.Proto, Header: r.Header.Clone(), Body: body})
		rc.mu.Unlock()
		r.Body = io.NopCloser(bytesReader(body))
		h.ServeHTTP(w, r)
	})
}

// Requests returns a copy of what was recorded so far.
func (rc *Recorder) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.reqs...)
}

// Carried reports whether a request recorded so far carried text
// anywhere: in its path and query, a header or its body.
func (rc *Recorder) Carried(text string) bool {
	for _, r := range rc.Requests() {
		if strings.Contains(r.Path, text) || strings.Contains(string(r.Body), text) {
			return true
		}
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, text) {
					return true
				}
			}
		}
	}
	return false
}

// SentHeader reports whether a request recorded so far carried the
// header name with exactly value.
func (rc *Recorder) SentHeader(name, value string) bool {
	for _, r := range rc.Requests() {
		if r.Header.Get(name) == value {
			return true
		}
	}
	return false
}

// Server is an httptest server on 127.0.0.1 that records what it gets.
type Server struct {
	*httptest.Server
	Recorder
}

// NewServer starts h on 127.0.0.1, recording each request. Close it
// with t.Cleanup(s.Close).
func NewServer(h http.Handler) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(s.Wrap(h))
	return s
}

// NewTLSServer is NewServer over TLS with httptest's certificate.
func NewTLSServer(h http.Handler) *Server {
	s := &Server{}
	s.Server = httptest.NewTLSServer(s.Wrap(h))
	return s
}

// NewTLSServerHTTP2 is NewTLSServer offering HTTP/2 as well (ALPN h2), as
// a real SSO or a load balancer before Vault does: each Request's Proto
// says which one the client spoke.
func NewTLSServerHTTP2(h http.Handler) *Server {
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(s.Wrap(h))
	s.EnableHTTP2 = true
	s.StartTLS()
	return s
}
