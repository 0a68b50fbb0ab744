package agent

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestRouteClosesConnectionsOfOtherUsers: a connection of another uid is
// answered 403 and closed with the refusal, not kept open (keep-alive,
// IdleTimeout 2 min) for another local user to hold the agent's file
// descriptors and goroutines.
func TestRouteClosesConnectionsOfOtherUsers(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, false)
	// The agent's user is another uid: this process is "another user".
	ta := startAgent(t, Options{UID: os.Getuid() + 1, Loader: fl})
	// The routes are not in status (refused): find them from the agent.
	addr := ta.a.routes[Nomad]
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		if _, err := c.Write([]byte("GET /v1/jobs HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")); err != nil {
			if i == 1 {
				return // closed after the refusal: good
			}
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if i == 1 {
				return // closed after the refusal: good
			}
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("request %d of another uid: %d, want 403", i+1, resp.StatusCode)
		}
		if resp.Close || strings.EqualFold(resp.Header.Get("Connection"), "close") {
			return
		}
	}
	t.Errorf("another uid's connection stays open after two refusals (keep-alive): the agent holds it for its IdleTimeout, with no cap on such connections")
}

// TestAnotherUserCannotRotateTheAuditLogAway: every request of another
// uid is refused; paths up to the header limit (1 MiB) would make a line
// each of about a megabyte, and the log keeps 10 MiB and one rotated
// file. The user's own lines survive 25 such requests of another local
// user: those are logged in short lines (the path cut), at most
// otherUserLines a minute, and every field is capped.
func TestAnotherUserCannotRotateTheAuditLogAway(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, false)
	ta := startAgent(t, Options{UID: os.Getuid() + 1, Loader: fl})
	logPath := filepath.Join(ta.dir, AuditName)
	// The user's history: a line as the agent writes them.
	const marker = `{"time":"2026-12-07T08:00:00Z","profile":"p","server":"vault","method":"GET","path":"/v1/kv-marker-of-the-user","status":200,"bytes":1,"duration_ms":1}`
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(marker + "\n")
	f.Close()
	addr := ta.a.routes[Nomad]
	long := "/v1/" + strings.Repeat("a", 900<<10)
	for i := 0; i < 25; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("GET " + long + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			resp.Body.Close()
		}
		c.Close()
	}
	ta.stop() // flushes the audit log
	var kept bool
	for _, p := range []string{logPath, logPath + ".1"} {
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), "kv-marker-of-the-user") {
			kept = true
		}
	}
	if !kept {
		t.Errorf("25 refused requests of another uid pushed the user's audit history out of %s and %s.1", logPath, logPath)
	}
}

// TestRouteCapsUncheckedConnections: another user's connections that
// wait without a request (each holding the agent's memory until its
// header timeout) are capped: beyond maxUncheckedConns a new one is
// closed at once; once they are gone, connections are served again.
func TestRouteCapsUncheckedConnections(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, false)
	ta := startAgent(t, Options{UID: os.Getuid() + 1, Loader: fl})
	addr := ta.a.routes[Nomad]
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < maxUncheckedConns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := over.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection %d beyond the cap of %d unchecked ones: read %d, %v; want it closed at once", maxUncheckedConns+1, maxUncheckedConns, n, err)
	}
	for _, c := range held {
		c.Close()
	}
	held = nil
	// The closed ones leave the count as the server sees them go: a new
	// connection is answered (403: this process is another user) once
	// they have.
	var resp *http.Response
	var rerr error
	served := testutil.Eventually(10*time.Second, func() bool {
		c, derr := net.Dial("tcp", addr)
		if derr != nil {
			t.Fatal(derr)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte("GET /v1/jobs HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"))
		resp, rerr = http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		return rerr == nil
	})
	if !served {
		t.Fatalf("no connection served 10 s after the unchecked ones closed: %v", rerr)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another user's request: %d, want 403", resp.StatusCode)
	}
}

// TestRouteCapLetsTheUsersOwnConnectionsIn: the cap on unchecked
// connections does not turn the user away: with the cap full of the
// user's own connections not yet sending (a burst of blocking queries
// opened together), one more of the user's is served.
func TestRouteCapLetsTheUsersOwnConnectionsIn(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	addr := ta.a.routes[Nomad]
	for i := 0; i < maxUncheckedConns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	if st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 {
		t.Errorf("the user's request with %d of the user's connections unchecked: %d %q", maxUncheckedConns, st, body)
	}
}
