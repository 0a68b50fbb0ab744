package agent

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHostileAnswersEndInTheAgentsErrorNotInTheNextRequest: answers h1
// must not take for a good one, each followed by GET /b, which gets its
// own answer.
func TestHostileAnswersEndInTheAgentsErrorNotInTheNextRequest(t *testing.T) {
	for _, c := range []struct {
		name, first string
		status      int
		body        string
		closeAfter  bool // the server closes after each answer
	}{
		{"a flood of 1xx", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 50000) + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 502, "", false},
		{"an unasked 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", 502, "", false},
		{"HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nA", 200, "A", true},
		{"Connection: close, then more", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", 200, "A", false},
		{"chunked with a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n1\r\nA\r\n0\r\nX-T: v\r\n\r\n", 200, "A", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, _ := rawServer(t, func(_ int, r *http.Request) string {
				if r.URL.Path == "/a" {
					return c.first
				}
				return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
			}, c.closeAfter)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
			g := ta.open(t)
			set := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
			st, body := ta.do(t, Nomad, "/a", set)
			if st != c.status || c.body != "" && body != c.body {
				t.Fatalf("GET /a: %d %q, want %d %q", st, body, c.status, c.body)
			}
			if st, body := ta.do(t, Nomad, "/b", set); st != 200 || body != "b" {
				t.Fatalf("GET /b: %d %q", st, body)
			}
		})
	}
}
