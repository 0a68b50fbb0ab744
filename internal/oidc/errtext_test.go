package oidc

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestSSOErrorBodyCleaned: go-oidc quotes the body of a failed discovery
// request in its error; that text reaches the terminal cleaned.
func TestSSOErrorBodyCleaned(t *testing.T) {
	s := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("maintenance\x1b]0;pwned\x07\x1b[2J\r\nalilogin: logged in"))
	}))
	t.Cleanup(s.Close)
	_, err := New(context.Background(), Config{Issuer: s.URL, ClientID: "alilogin"})
	if err == nil {
		t.Fatal("New succeeded against a failing discovery endpoint")
	}
	msg := err.Error()
	for _, bad := range []string{"\x1b", "\x07", "\r", "\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error keeps %q: %q", bad, msg)
		}
	}
	if !strings.Contains(msg, "maintenance") {
		t.Errorf("error lost the SSO's text: %q", msg)
	}
}

// TestDiscoveryErrorBodyClean: an SSO whose discovery endpoint
// answers 500 with escape sequences in the body. go-oidc quotes the body
// raw in its error ("%s: %s", status, body) and ssoError passes it on
// unchanged; `alilogin login`/`token`/`logout` print it with
// "alilogin: %v" on stderr, so the terminal acts on it (trust rule: "text
// from a server is data: stripped of control characters before a
// terminal"; issue 9 item 5).
func TestDiscoveryErrorBodyClean(t *testing.T) {
	body := "maintenance" + hostile.EscTitle + hostile.EscClear + "\r\nalilogin: logged in as admin" + hostile.EscC1 + hostile.EscBidi
	issuer, _ := hostileOP(t, http.NotFoundHandler(), hostile.ErrorBody(http.StatusInternalServerError, "text/plain", body))
	_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "cli"})
	if err == nil {
		t.Fatal("no error")
	}
	noControls(t, "the discovery error", err.Error())
}
