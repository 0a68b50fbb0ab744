package agent

import (
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// A server that sends more than its answer (a second answer for one
// request, a body longer than its Content-Length, a body after a 204 or
// after the answer to a HEAD) leaves bytes on the connection. net/http's
// Transport sees bytes arrive on an idle connection ("Unsolicited
// response received on idle HTTP channel") and closes it; a connection
// that goes back to the pool with them serves them to the next request
// as its answer: request B gets what the server sent for request A.
var surplusAnswers = []struct {
	name, method, first string
}{
	{"a second answer to one GET", "GET",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body longer than its Content-Length", "GET",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body after a 204", "GET",
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body after a 304", "GET",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 38\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body to a HEAD", "HEAD",
		"HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
}

func surplusServer(t *testing.T, first string) string {
	addr, _ := rawServer(t, func(_ int, r *http.Request) string {
		if r.URL.Path == "/a" {
			return first
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
	}, false)
	return addr
}

// TestAnswerBeyondItsEndIsNotReadAsTheNextRequestsAnswer: through the
// agent, GET /b after a request whose answer had more bytes than the
// answer gets the server's answer to /b, not the surplus.
func TestAnswerBeyondItsEndIsNotReadAsTheNextRequestsAnswer(t *testing.T) {
	for _, c := range surplusAnswers {
		t.Run(c.name, func(t *testing.T) {
			addr := surplusServer(t, c.first)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
			g := ta.open(t)
			r, _ := http.NewRequest(c.method, ta.routes[Nomad]+"/a", nil)
			r.Header.Set("X-Nomad-Token", g[Nomad])
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			st, body := ta.do(t, Nomad, "/b", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
			if st != 200 || body != "b" {
				t.Fatalf("GET /b after %s: %d %q, want 200 \"b\" (the answer to /b)", c.name, st, body)
			}
		})
	}
}

// TestNetHTTPTransportDoesNotReadSurplusAsTheNextAnswer is the control:
// the same servers through net/http's Transport alone (what the agent
// used before h1).
func TestNetHTTPTransportDoesNotReadSurplusAsTheNextAnswer(t *testing.T) {
	for _, c := range surplusAnswers {
		t.Run(c.name, func(t *testing.T) {
			addr := surplusServer(t, c.first)
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			r, _ := http.NewRequest(c.method, addr+"/a", nil)
			resp, err := tr.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r, _ = http.NewRequest("GET", addr+"/b", nil)
			resp, err = tr.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "b" {
				t.Fatalf("net/http: %q", b)
			}
		})
	}
}

// TestH1DoesNotReadSurplusAsTheNextAnswer: the same at h1's level.
func TestH1DoesNotReadSurplusAsTheNextAnswer(t *testing.T) {
	for _, c := range surplusAnswers {
		t.Run(c.name, func(t *testing.T) {
			addr := surplusServer(t, c.first)
			target, _ := url.Parse(addr)
			h := newH1(&http.Transport{MaxConnsPerHost: 80}, target)
			defer h.CloseIdleConnections()
			r, _ := http.NewRequest(c.method, addr+"/a", nil)
			resp, err := h.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r, _ = http.NewRequest("GET", addr+"/b", nil)
			resp, err = h.RoundTrip(r)
			if err != nil {
				t.Fatalf("GET /b: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "b" {
				t.Fatalf("GET /b after %s: %q, want \"b\"", c.name, b)
			}
		})
	}
}
