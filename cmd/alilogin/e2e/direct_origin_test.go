package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestReloginSendsReplacedConsulTokenOnlyToItsOwnConsul: a login made
// with Vault stopped holds a direct Consul token of the stack's Consul;
// a new login while CONSUL_HTTP_ADDR names another server must not send
// that token there (logging it out goes to the Consul that issued it,
// the recorded origin, as `logout` does), whatever the new login gets.
func TestReloginSendsReplacedConsulTokenOnlyToItsOwnConsul(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, u, profile, name, pw, rec := loginWithVaultDown(t, ctx, "stopped")
	if !rec.Consul.Direct() {
		t.Fatalf("the login holds no direct Consul token")
	}
	old := rec.Consul.Secret.Reveal()

	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Permission denied", http.StatusForbidden)
	}))
	t.Cleanup(other.Close)
	u.env["CONSUL_HTTP_ADDR"] = other.URL
	p, _ := login(t, ctx, u, name, pw, "--profile", profile)
	t.Logf("second login: exit %d; stderr:\n%s", p.code(), p.stderr.String())
	for _, r := range other.Requests() {
		if strings.Contains(r.Header.Get("X-Consul-Token"), old) || strings.Contains(r.Header.Get("Authorization"), old) || strings.Contains(string(r.Body), old) {
			t.Errorf("the previous login's Consul token (of %s) went to %s: %s %s", stack.Consul.Addr, other.URL, r.Method, r.Path)
		}
	}
}
