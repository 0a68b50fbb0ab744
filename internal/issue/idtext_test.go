package issue

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestIDWithControlsRefused: the accessor (Vault login), accessor_id /
// accessor (the nomad and consul engines) and lease_id are server text
// that logout, status and the renewal's warnings print: one with escape
// sequences, spaces or of unbounded length is refused on receipt, like a
// token; real ones, and an empty accessor (batch tokens), pass.
func TestIDWithControlsRefused(t *testing.T) {
	const evil = `acc\u001b]0;pwned\u0007\u001b[2J`
	login := func(body string) error {
		v := fakeVault(t, http.StatusOK, body)
		_, err := VaultLogin(context.Background(), v, VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("eyJ.x.y")}, time.Now())
		return err
	}
	nomad := func(body string) error {
		v := fakeVault(t, http.StatusOK, body)
		_, err := Mint(context.Background(), v.WithToken(secret.New("hvs.v")), store.Nomad, Target{Mount: "nomad"}, "ci", time.Now())
		return err
	}
	consul := func(body string) error {
		v := fakeVault(t, http.StatusOK, body)
		_, err := Mint(context.Background(), v.WithToken(secret.New("hvs.v")), store.Consul, Target{Mount: "consul"}, "ci", time.Now())
		return err
	}
	renew := func(body string) error {
		v := fakeVault(t, http.StatusOK, body)
		_, err := RenewLease(context.Background(), v.WithToken(secret.New("hvs.v")), "nomad/creds/ci/x", 0, time.Now())
		return err
	}
	for _, tc := range []struct {
		name    string
		call    func(string) error
		body    string
		refused bool
	}{
		{"vault accessor with escapes", login, `{"auth":{"client_token":"hvs.A","accessor":"` + evil + `","lease_duration":3600}}`, true},
		{"vault accessor too long", login, `{"auth":{"client_token":"hvs.A","accessor":"` + strings.Repeat("a", MaxIDLen+1) + `","lease_duration":3600}}`, true},
		{"vault accessor real", login, `{"auth":{"client_token":"hvs.A","accessor":"4BmBWGA2qzlDDUkCHaKsYZ2S","lease_duration":3600}}`, false},
		{"vault batch token, no accessor", login, `{"auth":{"client_token":"hvb.A","lease_duration":3600}}`, false},
		{"nomad accessor_id with escapes", nomad, `{"lease_id":"nomad/creds/ci/x","lease_duration":3600,"data":{"secret_id":"s","accessor_id":"` + evil + `"}}`, true},
		{"nomad lease_id with escapes", nomad, `{"lease_id":"nomad/creds/ci/` + evil + `","lease_duration":3600,"data":{"secret_id":"s","accessor_id":"a"}}`, true},
		{"nomad real", nomad, `{"lease_id":"nomad/creds/ci/Hk2Xw7","lease_duration":3600,"data":{"secret_id":"0b6e1c2a-5f1d-4a4e-9c1d-3f0b8e6e2d11","accessor_id":"a-b"}}`, false},
		{"consul accessor with a space", consul, `{"lease_id":"consul/creds/ci/x","lease_duration":3600,"data":{"token":"t","accessor":"a b"}}`, true},
		{"renewed lease_id with escapes", renew, `{"lease_id":"` + evil + `","lease_duration":3600,"renewable":true}`, true},
		{"renewed lease real", renew, `{"lease_id":"nomad/creds/ci/x","lease_duration":3600,"renewable":true}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.body)
			if tc.refused && err == nil {
				t.Errorf("accepted")
			}
			if !tc.refused && err != nil {
				t.Errorf("refused: %v", err)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Errorf("the error repeats the server's escapes: %q", err)
			}
		})
	}
}
