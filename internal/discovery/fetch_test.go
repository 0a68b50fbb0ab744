package discovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

func hostOf(t *testing.T, s string) string {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// A broker that redirects its discovery document to another origin is
// not followed, whichever client the caller passes: the other origin
// could otherwise send alilogin to its own Vault and SSO.
func TestFetchRefusesRedirectElsewhere(t *testing.T) {
	d := sample()
	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(d) }))
	t.Cleanup(other.Close)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		front := hostile.NewRedirect(code, other.URL)
		t.Cleanup(front.Close)
		for name, hc := range map[string]*http.Client{"nil client": nil, "caller's client": {Timeout: 5 * time.Second}} {
			_, err := Fetch(context.Background(), hc, front.URL)
			if err == nil || !strings.Contains(err.Error(), hostOf(t, front.URL)) || !strings.Contains(err.Error(), hostOf(t, other.URL)) {
				t.Errorf("%d, %s: want an error naming both addresses, got %v", code, name, err)
			}
		}
	}
	if n := len(other.Requests()); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
}

// A discovery document is at most 1 MiB; a larger one is an error that
// says so, and the client stops reading.
func TestFetchTooLarge(t *testing.T) {
	for _, h := range []*hostile.Huge{
		{ContentType: "application/json", Prefix: `{"version":1,"x":"`, Size: 400 << 20},
		{ContentType: "application/json", Prefix: `{"version":1,"x":"`, Size: 400 << 20, ContentLength: true},
	} {
		srv := hostile.NewServer(h)
		_, err := Fetch(context.Background(), nil, srv.URL)
		srv.CloseClientConnections()
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Errorf("want an error naming the bound, got %v", err)
		}
		if h.Sent() > 32<<20 {
			t.Errorf("the client read on: %d bytes sent", h.Sent())
		}
	}
}
