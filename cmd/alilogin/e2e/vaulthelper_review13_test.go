package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestReview13VaultHelperAddressFlagGetsNoToken: with the token helper
// installed and VAULT_ADDR naming the login's Vault, `vault -address=X`
// (a user checking another Vault, or a script's flag) makes the vault CLI
// ask the helper for a token and send it to X: the profile's Vault token
// reaches another origin. A token must go only to its own Vault.
func TestReview13VaultHelperAddressFlagGetsNoToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vth13-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))

	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	t.Cleanup(other.Close)

	_, _, _ = vaultCLI(t, u, "", "token", "lookup", "-address="+other.URL)
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("the profile's Vault token was sent to %s (%s %s), not the login's Vault %s", other.URL, r.Method, r.Path, u.env["VAULT_ADDR"])
		}
	}
}

// TestReview13VaultHelperConfigDirWithSpace: the vault CLI runs
// token_helper through `$SHELL -c "<path> get"` with the path unquoted,
// so a helper script in a directory with a space (macOS's default
// ~/Library/Application Support/alilogin) is never run: plain vault
// commands fail after `setup --vault-token-helper`.
func TestReview13VaultHelperConfigDirWithSpace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "vth13s-users")
	spaced := filepath.Join(u.home, "Application Support")
	if err := os.MkdirAll(spaced, 0o700); err != nil {
		t.Fatal(err)
	}
	// alilogin's own config dir moves with XDG_CONFIG_HOME: keep its files.
	old := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin")
	if _, err := os.Stat(old); err == nil {
		if err := os.Rename(old, filepath.Join(spaced, "alilogin")); err != nil {
			t.Fatal(err)
		}
	}
	u.env["XDG_CONFIG_HOME"] = spaced
	u.ok(t, "setup", "--vault-token-helper")
	out, errText, code := vaultCLI(t, u, "", "kv", "get", "-field=password", "secret/"+profile+"/allowed")
	if code != 0 || out != "v2-pass-"+profile {
		t.Errorf("vault kv get with the helper in %q: exit %d, %q\n%s", spaced, code, out, strings.TrimSpace(errText))
	}
}

// TestReview13VaultHelperOtherVaultStillUsable: setup replaces the user's
// token_helper, and for a VAULT_ADDR of another Vault `get` fails (exit
// 4) instead of giving no token, so after `setup --vault-token-helper`
// the vault CLI cannot talk to any other Vault at all (it stops at
// "failed to get token from token helper"), not even for `vault status`
// or `vault login`. It must not get the token either.
func TestReview13VaultHelperOtherVaultStillUsable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vth13o-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"type":"shamir","initialized":true,"sealed":false,"t":1,"n":1,"progress":0,"version":"1.13.0","cluster_name":"other","cluster_id":"other"}`))
	}))
	t.Cleanup(other.Close)
	o := *u
	o.env = map[string]string{}
	for k, v := range u.env {
		o.env[k] = v
	}
	o.env["VAULT_ADDR"] = other.URL
	_, errText, _ := vaultCLI(t, &o, "", "status")
	if strings.Contains(errText, "token helper") {
		t.Errorf("vault status against another Vault fails in the token helper:\n%s", strings.TrimSpace(errText))
	}
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("the token reached the other Vault (%s %s)", r.Method, r.Path)
		}
	}
}
