package session

import (
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
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

// TestSessionErrorBinding: an issuer, client id or server mismatch is
// its own exit code (7), with both sides and the fix, not "login needed"
// (whose login would replace the real one); an identity change, or a
// record that names no issuer or Vault, is "login needed" (exit 4).
func TestSessionErrorBinding(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		suffix string
	}{
		{&renew.BindingError{Profile: "ci", Issuer: "https://a", ClientID: "c", ConfiguredIssuer: "https://b", ConfiguredClientID: "c"}, ExitMismatch, "alilogin login --profile ci, which replaces this login and revokes its tokens"},
		{&renew.ServerBindingError{Profile: "ci", Server: "Nomad", Recorded: "https://n1:4646", Configured: "https://n2:4646"}, ExitMismatch, "alilogin login --profile ci, which replaces this login and revokes its tokens"},
		{&renew.BindingError{Profile: "ci", Issuer: "https://a", ConfiguredIssuer: "https://a", ConfiguredClientID: "c"}, exitLoginNeeded, "run: alilogin login --profile ci"},
		{&renew.ServerBindingError{Profile: "ci", Server: "Vault", Unrecorded: true}, exitLoginNeeded, "run: alilogin login --profile ci"},
		{&renew.IdentityChangedError{Profile: "ci", Issuer: "https://a", Subject: "s", GotIssuer: "https://a", GotSubject: "t"}, exitLoginNeeded, "run: alilogin login --profile ci"},
	} {
		got := Error("ci", tc.err)
		if exitcode.Code(got, exitError) != tc.code || !strings.Contains(got.Error(), tc.err.Error()) || !strings.HasSuffix(got.Error(), tc.suffix) {
			t.Errorf("Error(%v) = %v (exit %d), want exit %d", tc.err, got, exitcode.Code(got, exitError), tc.code)
		}
		if tc.code == ExitMismatch && !strings.Contains(got.Error(), "to use this login, unset ") {
			t.Errorf("Error(%v) = %v: no fix named", tc.err, got)
		}
	}
}
