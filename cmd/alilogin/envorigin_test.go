package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
)

// TestExecChildUsesBoundVault: the Vault binding is checked against
// VAULT_ADDR, but the vault CLI (and the Go API client of every tool built
// on it) sends VAULT_TOKEN to VAULT_AGENT_ADDR when that is set, ahead of
// VAULT_ADDR. alilogin neither reads nor removes it, so `alilogin exec --
// vault ...` (and `eval $(alilogin env)` in a shell that exports it) hands
// the token bound to https://vault.cern.example to whatever
// VAULT_AGENT_ADDR names. The child's environment must not name another
// Vault for the token than the one it is bound to.
func TestExecChildUsesBoundVault(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault: &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)}}
	environ := []string{"PATH=/bin", "VAULT_ADDR=https://vault.cern.example:8200", "VAULT_AGENT_ADDR=http://127.0.0.1:8100"}
	got := childEnv(environ, envVars(cfg, rec, []store.Kind{store.Vault}, nil), "ci")
	var token bool
	for _, kv := range got {
		if kv == "VAULT_TOKEN=hvs.bound" {
			token = true
		}
	}
	if !token {
		t.Fatalf("no VAULT_TOKEN in %q", got)
	}
	for _, kv := range got {
		if v, ok := strings.CutPrefix(kv, "VAULT_AGENT_ADDR="); ok && v != cfg.Vault.Addr {
			t.Errorf("the child gets VAULT_TOKEN for %s and VAULT_AGENT_ADDR=%s, which the vault CLI uses instead of VAULT_ADDR: the token goes to another Vault", cfg.Vault.Addr, v)
		}
	}
}

// TestExecChildGetsNoNomadTokenWithoutNomadAddr: with no Nomad address configured
// (only VAULT_ADDR set; the chain mints a Nomad token for --for nomad, see
// internal/renew TestNoNomadConfiguredMintsNoNomadToken), exec's
// child gets NOMAD_TOKEN and no NOMAD_ADDR: the nomad CLI sends it to its
// default http://127.0.0.1:4646, in clear, to whoever listens there.
func TestExecChildGetsNoNomadTokenWithoutNomadAddr(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault: &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Nomad: &store.Token{Secret: secret.New("nomad-secret"), ExpiresAt: now.Add(time.Hour)}}
	got := childEnv([]string{"PATH=/bin"}, envVars(cfg, rec, []store.Kind{store.Nomad}, nil), "ci")
	var tok, addr bool
	for _, kv := range got {
		tok = tok || strings.HasPrefix(kv, "NOMAD_TOKEN=")
		addr = addr || strings.HasPrefix(kv, "NOMAD_ADDR=")
	}
	if tok && !addr {
		t.Errorf("the child gets NOMAD_TOKEN without NOMAD_ADDR (the nomad CLI then uses http://127.0.0.1:4646): %q", got)
	}
}

// TestEnvUnsetsOverrides: `eval "$(alilogin env)"` in a shell that
// exports VAULT_AGENT_ADDR (which the vault CLI prefers to VAULT_ADDR) or
// CONSUL_HTTP_TOKEN_FILE (which the consul CLI prefers to
// CONSUL_HTTP_TOKEN) would send the new token elsewhere, or another
// token: env unsets them in every shell dialect.
func TestEnvUnsetsOverrides(t *testing.T) {
	now := time.Now()
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}, Consul: config.Server{Addr: "https://consul.cern.example:8501"}}
	rec := &store.Record{Profile: "ci", VaultAddr: "https://vault.cern.example:8200",
		Vault:  &store.Token{Secret: secret.New("hvs.bound"), ExpiresAt: now.Add(time.Hour)},
		Consul: &store.Token{Secret: secret.New("consul-secret"), ExpiresAt: now.Add(time.Hour)}}
	vars := envVars(cfg, rec, []store.Kind{store.Vault, store.Consul}, nil)
	for shell, want := range map[string][]string{
		shellenv.Sh:         {"unset VAULT_AGENT_ADDR;\n", "unset CONSUL_HTTP_TOKEN_FILE;\n"},
		shellenv.Fish:       {"set -e VAULT_AGENT_ADDR; or true;\n", "set -e CONSUL_HTTP_TOKEN_FILE; or true;\n"},
		shellenv.PowerShell: {"Remove-Item Env:VAULT_AGENT_ADDR -ErrorAction SilentlyContinue\n", "Remove-Item Env:CONSUL_HTTP_TOKEN_FILE -ErrorAction SilentlyContinue\n"},
		shellenv.JSON:       {`"VAULT_AGENT_ADDR": null`, `"CONSUL_HTTP_TOKEN_FILE": null`},
	} {
		var b strings.Builder
		if err := shellenv.Write(&b, shell, vars); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in\n%s", shell, w, b.String())
			}
		}
	}
	got := childEnv([]string{"CONSUL_HTTP_TOKEN_FILE=/tmp/other", "VAULT_AGENT_ADDR=http://127.0.0.1:8100"}, vars, "ci")
	for _, kv := range got {
		if strings.HasPrefix(kv, "CONSUL_HTTP_TOKEN_FILE") || strings.HasPrefix(kv, "VAULT_AGENT_ADDR") {
			t.Errorf("the child keeps %s", kv)
		}
	}
}
