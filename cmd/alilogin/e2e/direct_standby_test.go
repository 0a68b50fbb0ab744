package e2e

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestDirectLoginWhenVaultHasNoActiveNode: a Vault cut off from the
// Consul it stores its data in loses its active node; its standby still
// answers sys/health?standbyok=true with 200 (the probe's question) but
// every request that needs the active node gets 500 "local node not
// active but active cluster node not found". That Vault issues nothing:
// the login of a profile with direct_login = "fallback" gets its Nomad
// and Consul tokens directly, as with a sealed or stopped Vault.
func TestDirectLoginWhenVaultHasNoActiveNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, u, profile := directSetup(t, ctx, "fallback")
	name, pw := newUserAccount("ci-users")
	standby := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/sys/health" {
			if r.URL.Query().Get("standbyok") == "true" {
				w.WriteHeader(http.StatusOK)
			} else {
				w.WriteHeader(http.StatusTooManyRequests)
			}
			_, _ = io.WriteString(w, `{"initialized":true,"sealed":false,"standby":true,"version":"1.13.13"}`)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"errors":["local node not active but active cluster node not found"]}`)
	}))
	t.Cleanup(standby.Close)
	u.env["VAULT_ADDR"] = standby.URL

	loginOK(t, ctx, u, name, pw, "login with Vault's active node gone", "--profile", profile)
	rec := mustRecord(t, u, profile)
	if !rec.Nomad.Direct() || !rec.Consul.Direct() {
		t.Fatalf("record after login: nomad direct %v, consul direct %v", rec.Nomad.Direct(), rec.Consul.Direct())
	}
}
