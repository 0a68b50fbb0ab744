package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestVaultTokenHelperAddressFlagOwnVault: the helper reads the vault
// command's -address (Linux): one naming the login's Vault, in another
// spelling of the same address, still gets the token, so the refusal of
// another Vault's address is not a refusal of every -address.
func TestVaultTokenHelperAddressFlagOwnVault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vthaddr-users")
	u.ok(t, "setup", "--vault-token-helper")
	own := strings.Replace(u.env["VAULT_ADDR"], "http://", "HTTP://", 1) + "/"
	out, errText, code := vaultCLI(t, u, "", "token", "lookup", "-format=json", "--address", own)
	if code != 0 || !strings.Contains(out, `"display_name"`) {
		t.Errorf("vault token lookup --address %s: exit %d\n%s", own, code, strings.TrimSpace(errText))
	}
}
