package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestLoginWithoutNomadAddress: with no Nomad address configured (only
// VAULT_ADDR and CONSUL_HTTP_ADDR), against the real servers: login mints
// no Nomad token and its summary says why; `token`, `env` and `exec --for
// nomad` refuse (exit 1) with the same reason and mint nothing, so no
// NOMAD_TOKEN is ever handed out for the nomad CLI to send to its default
// http://127.0.0.1:4646; the Vault and Consul tokens work as usual.
func TestLoginWithoutNomadAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "ci-users")
	delete(u.env, "NOMAD_ADDR")
	u.env["ALILOGIN_STORE"] = "keyring"

	p := loginOK(t, ctx, u, name, pw, "login", "--profile", profile, "--json")
	const why = "no Nomad address configured (set NOMAD_ADDR"
	if !strings.Contains(p.stderr.String(), "nomad:  none: "+why) {
		t.Errorf("login summary does not say why there is no Nomad token:\n%s", p.stderr.String())
	}
	var sum struct {
		Tokens  map[string]json.RawMessage `json:"tokens"`
		Skipped map[string]string          `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil {
		t.Fatalf("--json: %v\n%s", err, p.stdout.String())
	}
	if _, ok := sum.Tokens["nomad"]; ok || !strings.Contains(sum.Skipped["nomad"], why) || sum.Tokens["consul"] == nil {
		t.Errorf("--json: tokens %v, skipped %v; want consul and no nomad token, skipped.nomad saying why", sum.Tokens, sum.Skipped)
	}

	for _, args := range [][]string{
		{"token", "--for", "nomad"},
		{"env", "--for", "nomad"},
		{"env", "--for", "vault,nomad"},
		{"exec", "--for", "nomad", "--", "true"},
	} {
		p := u.run(t, append([]string{args[0], "--profile", profile}, args[1:]...)...) // before exec's "--"
		if p.code() != 1 || !strings.Contains(p.stderr.String(), why) || strings.Contains(p.stdout.String(), "NOMAD_TOKEN") || p.stdout.String() != "" {
			t.Errorf("%v: exit %d (want 1), stdout %q, stderr %q", args, p.code(), p.stdout.String(), p.stderr.String())
		}
	}
	rec := mustRecord(t, u, profile)
	if rec.Nomad != nil || rec.NomadAddr != "" {
		t.Errorf("the record holds a Nomad token (%v) bound to %q", rec.Nomad != nil, rec.NomadAddr)
	}
	env := u.ok(t, "env", "--shell", "json", "--profile", profile)
	if strings.Contains(env.stdout.String(), "NOMAD_TOKEN") || !strings.Contains(env.stdout.String(), "CONSUL_HTTP_TOKEN") {
		t.Errorf("env with the kinds the login has:\n%s", env.stdout.String())
	}
}
