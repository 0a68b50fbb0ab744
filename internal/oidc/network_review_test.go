package oidc

// Review 9a (network and login side): attacks that still work after the
// fixes of issue 9. Each test fails on the reviewed code.

import (
	"context"
	"net/http"
	"testing"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestReviewDiscoveryErrorBodyClean: an SSO whose discovery endpoint
// answers 500 with escape sequences in the body. go-oidc quotes the body
// raw in its error ("%s: %s", status, body) and ssoError passes it on
// unchanged; `alilogin login`/`token`/`logout` print it with
// "alilogin: %v" on stderr, so the terminal acts on it (trust rule: "text
// from a server is data: stripped of control characters before a
// terminal"; issue 9 item 5).
func TestReviewDiscoveryErrorBodyClean(t *testing.T) {
	body := "maintenance" + escTitle + escClear + "\r\nalilogin: logged in as admin" + escC1 + escBidi
	issuer, _ := hostileOP(t, http.NotFoundHandler(), hostile.ErrorBody(http.StatusInternalServerError, "text/plain", body))
	_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "cli"})
	if err == nil {
		t.Fatal("no error")
	}
	noControls(t, "the discovery error", err.Error())
}
