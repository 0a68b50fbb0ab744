package issue

// Review 9a: a token is server text too.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// TestReviewTokenWithControlsRefused: Vault's client_token and the
// nomad/consul engines' secret_id/token are stored and later printed raw
// by `alilogin token --for ...` (stdout, often a terminal) and written
// into `alilogin env` output: a lying Vault (or a lying Nomad/Consul
// behind its engine) puts escape sequences in the "token", and the
// terminal acts on them. A token cannot be cleaned without changing it;
// it can be refused when it is not printable ASCII without spaces (every
// real Vault, Nomad and Consul token is: hvs./s./b. base62, UUIDs).
func TestReviewTokenWithControlsRefused(t *testing.T) {
	hostileTok := "hvs.AAAA\x1b]0;pwned\x07\x1b[2J"
	t.Run("vault login", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"auth":{"client_token":"hvs.AAAA\u001b]0;pwned\u0007\u001b[2J","accessor":"a","lease_duration":3600,"renewable":true}}`)
		tok, err := Login(context.Background(), v, LoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("eyJ.x.y")}, time.Now())
		if err == nil && tok.Secret.Reveal() == hostileTok {
			t.Errorf("a Vault token with escape sequences was accepted (and would be printed by alilogin token)")
		}
	})
	t.Run("nomad creds", func(t *testing.T) {
		v := fakeVault(t, http.StatusOK, `{"lease_id":"nomad/creds/ci/x","lease_duration":3600,"renewable":true,"data":{"secret_id":"hvs.AAAA\u001b]0;pwned\u0007\u001b[2J","accessor_id":"a"}}`)
		tok, err := MintNomad(context.Background(), v.WithToken(secret.New("hvs.v")), Target{Mount: "nomad"}, "ci", time.Now())
		if err == nil && tok.Secret.Reveal() == hostileTok {
			t.Errorf("a Nomad token with escape sequences was accepted (and would be printed by alilogin token --for nomad)")
		}
	})
}
