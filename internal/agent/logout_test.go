package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLogoutEndsStreamsOfTheProfile: a stream (nomad alloc logs -f, the
// event stream, a blocking query) opened through the agent before
// `alilogin logout`, and still writing, ends within seconds of it,
// though the request in flight holds the real token's connection to the
// server. Issue 21: the agent "drops a profile the moment logout runs";
// a gate is "dead after logout".
func TestLogoutEndsStreamsOfTheProfile(t *testing.T) {
	up := newUpstream(t)
	up.hook = streamLines(100 * time.Millisecond)
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	req, err := http.NewRequest("GET", ta.routes[Nomad]+"/v1/client/fs/logs/x?follow=true", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Nomad-Token", g[Nomad])
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatalf("the stream before logout: %v", err)
	}
	// The logout: nothing stored, and the agent is told.
	fl.stored.Store(false)
	if _, err := Call(context.Background(), ta.dir, Request{Op: "sync"}); err != nil {
		t.Fatal(err)
	}
	// Whatever was buffered, the stream must end within a few seconds.
	var lines atomic.Int32
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := br.ReadString('\n'); err != nil {
				done <- err
				return
			}
			lines.Add(1)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		resp.Body.Close()
		t.Errorf("the stream opened before logout still serves the tool 5 s after it (%d lines since)", lines.Load())
	}
}

// TestGateStaysDeadAfterLogoutSeenByGeneration: a logout that did not
// reach the agent (run with another ALILOGIN_AGENT_DIR, or the agent
// busy: logout only warns) is seen by the agent at the next request
// (the stored login is gone: 401, "run: alilogin login"), and the
// profile is dropped with its gates then: after the next login the old
// gate, left in some tool's environment from before the logout, stays
// refused.
func TestGateStaysDeadAfterLogoutSeenByGeneration(t *testing.T) {
	up := newUpstream(t)
	now := time.Now()
	var gen atomic.Int32 // 0: first login, 1: logged out, 2: logged in again
	fl := &fakeLoader{next: func(int) (*Creds, error) {
		g := gen.Load()
		if g == 1 {
			return nil, ErrNotLoggedIn
		}
		c := credsFor(up.URL, now, time.Hour)
		c.Gen = fmt.Sprint(g)
		c.Watch = func() (string, bool) { return fmt.Sprint(gen.Load()), true }
		return c, nil
	}}
	fl.stored.Store(true)
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	gate := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
	if st, _ := ta.do(t, Nomad, "/v1/jobs", gate); st != 200 {
		t.Fatalf("before logout: %d", st)
	}
	gen.Store(1) // logged out; the agent was not told
	fl.stored.Store(false)
	st, body := ta.do(t, Nomad, "/v1/jobs", gate)
	if st != http.StatusUnauthorized || !strings.Contains(body, "alilogin login") {
		t.Fatalf("after the logout: %d %q, want 401", st, body)
	}
	gen.Store(2) // a new login
	fl.stored.Store(true)
	if st, _ := ta.do(t, Nomad, "/v1/jobs", gate); st != http.StatusUnauthorized {
		t.Errorf("the gate issued before the logout works again after the next login: %d, want 401", st)
	}
}

// TestLogoutEndsWebsockets: a websocket (nomad alloc exec) opened with a
// profile's gate is a hijacked connection, out of the HTTP server's
// hands: the logout closes it too, at both ends.
func TestLogoutEndsWebsockets(t *testing.T) {
	up := newUpstream(t)
	upstreamClosed := make(chan struct{})
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello\n")
		brw.Flush()
		_, _ = io.Copy(io.Discard, brw) // until the agent closes it
		close(upstreamClosed)
	}
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	g := ta.open(t)
	host := strings.TrimPrefix(ta.routes[Nomad], "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v1/client/allocation/x/exec HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Nomad-Token: %s\r\n\r\n", host, g[Nomad])
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("the upgrade: %v %v", resp, err)
	}
	if line, err := br.ReadString('\n'); err != nil || line != "hello\n" {
		t.Fatalf("the websocket's first bytes: %q %v", line, err)
	}
	fl.stored.Store(false)
	if _, err := Call(context.Background(), ta.dir, Request{Op: "sync"}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Errorf("the websocket opened before the logout is still open 5 s after it: %v", err)
	}
	select {
	case <-upstreamClosed:
	case <-time.After(5 * time.Second):
		t.Errorf("the agent's connection to the server stays open after the logout")
	}
}
