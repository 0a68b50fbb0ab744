package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// uiSignInHTTP signs a browser in to the running agent's Nomad UI for
// profile p over HTTP, as Chromium does: the one-time URL `alilogin ui`
// gets, then the session's first navigation. It returns the one-time
// URL's ID, the session's host and its cookie.
func (ta *testAgent) uiSignInHTTP(t *testing.T) (string, string, string) {
	t.Helper()
	a, err := Call(context.Background(), ta.dir, Request{Op: "ui", Profile: "p", Kinds: []Kind{Nomad}})
	if err != nil || a.Error != "" {
		t.Fatalf("ui: %v %s", err, a.Error)
	}
	link, err := url.Parse(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	nav := func(host, path string) *http.Response {
		r, _ := http.NewRequest("GET", ta.routes[Nomad]+path, nil)
		r.Host = host
		r.Header.Set("Sec-Fetch-Site", "none")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := nav(link.Host, link.Path)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("the one-time URL: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = nav(loc.Host, loc.Path)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("the session's first navigation: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	return strings.TrimPrefix(link.Path, uiStartPrefix), loc.Host, resp.Cookies()[0].Value
}

// uiGet sends a request of the session's own page (fetch) to path.
func (ta *testAgent) uiGet(t *testing.T, host, cookie, path string) *http.Response {
	t.Helper()
	r, _ := http.NewRequest("GET", ta.routes[Nomad]+path, nil)
	r.Host = host
	r.Header.Set("Cookie", UICookie+"="+cookie)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	r.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestUISessionEndCancelsOnlyItsOwnRequests: two browser sessions of the
// same profile each follow a log stream through the agent; when session
// A ends (a second use of its one-time link where the agent has no peer
// check), A's stream ends within seconds and B's goes on.
func TestUISessionEndCancelsOnlyItsOwnRequests(t *testing.T) {
	up := newUpstream(t)
	up.hook = streamLines(50 * time.Millisecond)
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	idA, hostA, cookieA := ta.uiSignInHTTP(t)
	_, hostB, cookieB := ta.uiSignInHTTP(t)
	follow := func(host, cookie string) (*bufio.Reader, io.Closer) {
		resp := ta.uiGet(t, host, cookie, "/v1/client/fs/logs/x?follow=true")
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("the stream: %d %s", resp.StatusCode, b)
		}
		t.Cleanup(func() { resp.Body.Close() })
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("the stream: %v", err)
		}
		return br, resp.Body
	}
	brA, _ := follow(hostA, cookieA)
	brB, _ := follow(hostB, cookieB)

	if _, _, res, _ := ta.a.ui.useStart(idA, Nomad, ta.a.now(), true); res != startUsed {
		t.Fatalf("the second use of A's link: %v", res)
	}
	ended := make(chan error, 1)
	go func() {
		for {
			if _, err := brA.ReadString('\n'); err != nil {
				ended <- err
				return
			}
		}
	}()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("session A's stream still runs 5 s after A ended")
	}
	for i := 0; i < 5; i++ {
		if _, err := brB.ReadString('\n'); err != nil {
			t.Fatalf("session B's stream ended with A: %v", err)
		}
	}
	if resp := ta.uiGet(t, hostB, cookieB, "/v1/jobs"); resp.StatusCode != 200 {
		t.Errorf("session B after A's end: %d", resp.StatusCode)
	}
	if resp := ta.uiGet(t, hostA, cookieA, "/v1/jobs"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session A after its end: %d", resp.StatusCode)
	}
}

// TestAgentStatusListsUISessions: `agent status` lists each live browser
// session (server, profile, started, last use, requests) and never its
// host label nor its cookie; an ended session is gone from it.
func TestAgentStatusListsUISessions(t *testing.T) {
	up := newUpstream(t)
	fl := hourLoader(up.URL, true)
	ta := startAgent(t, Options{Loader: fl})
	_, host, cookie := ta.uiSignInHTTP(t)
	for range 3 {
		resp := ta.uiGet(t, host, cookie, "/v1/jobs")
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("a request of the session: %d", resp.StatusCode)
		}
	}
	a, err := Call(context.Background(), ta.dir, Request{Op: "status"})
	if err != nil || a.Status == nil {
		t.Fatalf("status: %v %+v", err, a)
	}
	if len(a.Status.UISessions) != 1 {
		t.Fatalf("status lists %d web UI sessions, want 1: %+v", len(a.Status.UISessions), a.Status.UISessions)
	}
	s := a.Status.UISessions[0]
	if s.Server != Nomad || s.Profile != "p" || !s.Entered || s.Requests != 3 || s.Started.IsZero() || s.LastUse.Before(s.Started) {
		t.Errorf("the session in status: %+v", s)
	}
	raw, _ := json.Marshal(a)
	label := strings.TrimSuffix(strings.TrimPrefix(strings.Split(host, ":")[0], "nomad-"), ".localhost")
	for what, secret := range map[string]string{"host label": label, "cookie": cookie} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("status shows the session's %s: %s", what, raw)
		}
	}
	ta.a.ui.drop("p")
	a, _ = Call(context.Background(), ta.dir, Request{Op: "status"})
	if len(a.Status.UISessions) != 0 {
		t.Errorf("an ended session is still listed: %+v", a.Status.UISessions)
	}
}
