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

// TestTokenWithControlsRefused: Vault's client_token and the
// nomad/consul engines' secret_id/token are stored and later printed raw
// by `alilogin token --for ...` (stdout, often a terminal) and written
// into `alilogin env` output: a lying Vault (or a lying Nomad/Consul
// behind its engine) puts escape sequences in the "token", and the
// terminal acts on them. A token cannot be cleaned without changing it;
// it can be refused when it is not printable ASCII without spaces (every
// real Vault, Nomad and Consul token is: hvs./s./b. base62, UUIDs).
func TestTokenWithControlsRefused(t *testing.T) {
	hostileTok := "hvs.AAAA\x1b]0;pwned\x07\x1b[2J"
	t.Run("vault login", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"auth":{"client_token":"hvs.AAAA\u001b]0;pwned\u0007\u001b[2J","accessor":"a","lease_duration":3600,"renewable":true}}`)
		tok, err := VaultLogin(context.Background(), v, VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("eyJ.x.y")}, time.Now())
		if err == nil && tok.Secret.Reveal() == hostileTok {
			t.Errorf("a Vault token with escape sequences was accepted (and would be printed by alilogin token)")
		}
	})
	t.Run("nomad creds", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"lease_id":"nomad/creds/ci/x","lease_duration":3600,"renewable":true,"data":{"secret_id":"hvs.AAAA\u001b]0;pwned\u0007\u001b[2J","accessor_id":"a"}}`)
		tok, err := Mint(context.Background(), v.WithToken(secret.New("hvs.v")), store.Nomad, Target{Mount: "nomad"}, "ci", time.Now())
		if err == nil && tok.Secret.Reveal() == hostileTok {
			t.Errorf("a Nomad token with escape sequences was accepted (and would be printed by alilogin token --for nomad)")
		}
		if err == nil || !strings.Contains(err.Error(), "Vault at ") || strings.Contains(err.Error(), "pwned") {
			t.Errorf("error = %v; want one naming the server, without the token", err)
		}
	})
	t.Run("consul creds", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"lease_id":"consul/creds/ci/x","lease_duration":3600,"renewable":true,"data":{"token":"1234 5678","accessor":"a"}}`)
		if _, err := Mint(context.Background(), v.WithToken(secret.New("hvs.v")), store.Consul, Target{Mount: "consul"}, "ci", time.Now()); err == nil {
			t.Errorf("a Consul token with a space was accepted")
		}
	})
	t.Run("too long", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"auth":{"client_token":"hvs.`+strings.Repeat("A", MaxTokenLen)+`","lease_duration":3600}}`)
		if _, err := VaultLogin(context.Background(), v, VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("eyJ.x.y")}, time.Now()); err == nil {
			t.Errorf("a Vault token over %d bytes was accepted", MaxTokenLen)
		}
	})
	t.Run("real tokens accepted", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"auth":{"client_token":"hvs.CAESIJ-x_y.z","lease_duration":3600}}`)
		if _, err := VaultLogin(context.Background(), v, VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("eyJ.x.y")}, time.Now()); err != nil {
			t.Errorf("a real-looking Vault token was refused: %v", err)
		}
	})
}
