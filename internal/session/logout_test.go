package session

import (
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
)

// TestRefreshBinding: logout revokes the refresh token at the login's
// issuer with the login's client id; a record of an earlier version
// without a client id uses the configured one only at its own issuer.
func TestRefreshBinding(t *testing.T) {
	cfg := &config.Config{Issuer: "https://configured", ClientID: "configured-client"}
	for _, tc := range []struct {
		name             string
		rec              store.Record
		issuer, clientID string
		ok               bool
	}{
		{"the login's issuer and client id, not the configured ones", store.Record{Issuer: "https://login", ClientID: "login-client"}, "https://login", "login-client", true},
		{"earlier record at the configured issuer", store.Record{Issuer: "https://configured"}, "https://configured", "configured-client", true},
		{"earlier record at another issuer", store.Record{Issuer: "https://login"}, "", "", false},
		{"no issuer recorded", store.Record{ClientID: "login-client"}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss, cid, ok := refreshBinding(cfg, &tc.rec)
			if iss != tc.issuer || cid != tc.clientID || ok != tc.ok {
				t.Errorf("refreshBinding = %q, %q, %v; want %q, %q, %v", iss, cid, ok, tc.issuer, tc.clientID, tc.ok)
			}
		})
	}
}
