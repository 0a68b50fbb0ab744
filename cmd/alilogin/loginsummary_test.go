package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// TestLoginAndStatusJSONDescribeTokensAlike: `login --json` and `status
// --json` describe the tokens of one login with the same fields and the
// same values (one Go type, session.TokenStatus), the token masked.
func TestLoginAndStatusJSONDescribeTokensAlike(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tok := func(s, acc, lease string, pol ...string) *store.Token {
		return &store.Token{Secret: secret.New(s), Accessor: acc, LeaseID: lease, Policies: pol, Renewable: true,
			IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci-user", User: "alice", Roles: []string{"alice-ci-users"},
		Vault:  tok("hvs.vault-secret", "vacc", "", "alilogin-profile-ci-user", "default"),
		Nomad:  tok("nomad-secret", "nacc", "nomad/creds/ci-user/x", "ci-read-jobs"),
		Consul: tok("consul-secret", "cacc", "consul/creds/ci-user/y"), UpdatedAt: now}
	st := store.NewFile(t.TempDir())
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}

	var login, status bytes.Buffer
	if err := writeJSON(&login, newLoginSummary(&session.LoginResult{Record: rec, Minted: &issue.Minted{Nomad: rec.Nomad, Consul: rec.Consul}},
		&session.SignedIn{Result: &oidc.Result{Identity: &oidc.Identity{User: "alice"}}}, now)); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(&status, session.Describe(st, "ci-user", now, false)); err != nil {
		t.Fatal(err)
	}
	var l, s struct {
		Tokens map[string]map[string]any `json:"tokens"`
	}
	if err := json.Unmarshal(login.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(status.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s.Tokens, l.Tokens); diff != "" {
		t.Errorf("tokens (-status --json +login --json):\n%s", diff)
	}
	want := map[string]any{"token": "hvs.****", "accessor": "vacc", "policies": []any{"alilogin-profile-ci-user", "default"},
		"expires_at": "2026-03-01T11:00:00Z", "ttl_seconds": float64(3600), "valid": true, "renewable": true, "from": "vault"}
	if diff := cmp.Diff(want, l.Tokens["vault"]); diff != "" {
		t.Errorf("login --json vault token (-want +got):\n%s", diff)
	}
	for _, secretText := range []string{"hvs.vault-secret", "nomad-secret", "consul-secret"} {
		if bytes.Contains(login.Bytes(), []byte(secretText)) {
			t.Errorf("login --json shows the token %q", secretText)
		}
	}
}

// TestLoginSummarySaysNoNomadAddress: login mints no Nomad or
// Consul token when no address of the server is configured (renew.Login
// is not asked for it); its summary says so rather than leaving the line out.
func TestLoginSummarySaysNoNomadAddress(t *testing.T) {
	cfg := &config.Config{Vault: config.Server{Addr: "https://vault.cern.example:8200"}, Consul: config.Server{Addr: "https://consul.cern.example:8501"}}
	s := &loginSummary{User: "alice", Profile: "ci", Skipped: session.SkippedTokens(cfg, false, false)}
	var b strings.Builder
	s.write(&b, time.Now())
	if !strings.Contains(b.String(), "nomad:  none: no Nomad address configured (set NOMAD_ADDR") || strings.Contains(b.String(), "consul:") {
		t.Errorf("summary:\n%s\nwant a nomad line saying no address is configured, and no consul line", b.String())
	}
	if got := session.SkippedTokens(cfg, true, false); got != nil {
		t.Errorf("a profile that grants no Nomad token: skipped %v, want none", got)
	}
}
