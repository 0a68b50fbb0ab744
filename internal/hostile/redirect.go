package hostile

import (
	"net/http"
	"net/http/httputil"
	"net/url"
)

// Redirect returns a handler that answers every request with code (307,
// 308, 301, 302, ...) and a Location of target followed by the request's
// path and query: what a server at the configured address would do to move
// a token header or a request body to another origin. target may be
// http:// while the front is https:// (a downgrade).
func Redirect(code int, target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target+r.URL.RequestURI())
		w.WriteHeader(code)
	})
}

// NewRedirect starts a recording server on 127.0.0.1 that redirects every
// request to target with code.
func NewRedirect(code int, target string) *Server { return NewServer(Redirect(code, target)) }

// NewTLSRedirect is NewRedirect over TLS (httptest's certificate).
func NewTLSRedirect(code int, target string) *Server { return NewTLSServer(Redirect(code, target)) }

// NewForward starts a recording server on 127.0.0.1 that passes every
// request on to the server at target (a reverse proxy), so that a test can
// see what reached a real server through it.
func NewForward(target string) (*Server, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return NewServer(httputil.NewSingleHostReverseProxy(u)), nil
}
