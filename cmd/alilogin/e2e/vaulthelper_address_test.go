package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
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

// TestVaultHelperAddressFlagGetsNoToken: with the token helper
// installed and VAULT_ADDR naming the login's Vault, `vault -address=X`
// (a user checking another Vault, or a script's flag) makes the vault CLI
// ask the helper for a token and send it to X: the profile's Vault token
// reaches another origin. A token must go only to its own Vault.
func TestVaultHelperAddressFlagGetsNoToken(t *testing.T) {
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

// otherVault is a server that is not the login's Vault and records
// what reaches it (as a Vault, or as an HTTP proxy).
func otherVault(t *testing.T) *hostile.Server {
	t.Helper()
	other := hostile.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	t.Cleanup(other.Close)
	return other
}

func checkNoTokenAt(t *testing.T, other *hostile.Server, tok, what string) {
	t.Helper()
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == tok {
			t.Errorf("%s: the profile's Vault token reached %s (%s %s)", what, other.URL, r.Method, r.Path)
		}
	}
}

// TestVaultHelperProxyEnvGetsNoToken: the helper refuses when
// VAULT_AGENT_ADDR is set, but the vault CLI also sends its requests
// through the HTTP proxy VAULT_PROXY_ADDR (or the older VAULT_HTTP_PROXY)
// names, loopback included: with an http:// Vault the proxy reads the
// X-Vault-Token header the helper's token went into.
func TestVaultHelperProxyEnvGetsNoToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vth13bp-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	for _, name := range []string{"VAULT_PROXY_ADDR", "VAULT_HTTP_PROXY"} {
		t.Run(name, func(t *testing.T) {
			proxy := otherVault(t)
			o := *u
			o.env = map[string]string{}
			for k, v := range u.env {
				o.env[k] = v
			}
			o.env[name] = proxy.URL
			_, _, _ = vaultCLI(t, &o, "", "token", "lookup")
			if len(proxy.Requests()) == 0 {
				t.Fatalf("the vault CLI did not use %s=%s", name, proxy.URL)
			}
			checkNoTokenAt(t, proxy, tok, name)
		})
	}
}

// TestVaultHelperFlagAfterArgument: the vault CLI parses flags
// only up to the first argument (Go's flag package), but the helper
// reads every -address of the command line and takes the last: in
// `vault read -address=OTHER PATH -address=OWN` the CLI talks to OTHER
// (the trailing text is data for read) while the helper sees OWN and
// gives the token. Likewise the helper does not know which flags take a
// value: `-field --` or `-field -address=OWN` hide or fake an -address.
func TestVaultHelperFlagAfterArgument(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := kvUser(t, ctx, "vth13bf-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	path := "secret/" + profile + "/allowed"
	for _, c := range []struct {
		name string
		args func(other string) []string
	}{
		{"flag after the path", func(other string) []string {
			return []string{"read", "-address=" + other, path, "-address=" + u.env["VAULT_ADDR"]}
		}},
		// -field takes "--" as its value; the helper stops there.
		{"-- as a flag's value", func(other string) []string {
			return []string{"read", "-field", "--", "-address=" + other, path}
		}},
		// -field takes "-address=OWN" as its value.
		{"-address=OWN as a flag's value", func(other string) []string {
			return []string{"read", "-address", other, "-field", "-address=" + u.env["VAULT_ADDR"], path}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			other := otherVault(t)
			args := c.args(other.URL)
			_, _, _ = vaultCLI(t, u, "", args...)
			if len(other.Requests()) == 0 {
				t.Fatalf("the vault CLI did not talk to %s: vault %v", other.URL, args)
			}
			checkNoTokenAt(t, other, tok, fmt.Sprintf("vault %v", args))
		})
	}
}

// TestVaultHelperCLINotNamedVault: the helper finds the vault
// command line by the program's name "vault"; a vault CLI installed
// under another name (vault-1.13, as versioned installs do) is not
// found, and then the helper trusts VAULT_ADDR alone: its -address to
// another Vault gets the token, though docs promise that on Linux no
// -address naming another Vault gets it.
func TestVaultHelperCLINotNamedVault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vth13bn-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	other := otherVault(t)
	vault, err := teststack.Bin("vault")
	if err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(t.TempDir(), "vault-1.13")
	if err := os.Link(vault, renamed); err != nil {
		t.Fatalf("could not link the vault binary: %v", err)
	}
	cmd := exec.Command(renamed, "token", "lookup", "-address="+other.URL)
	for k, v := range u.env {
		if k != "VAULT_TOKEN" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	_, _ = cmd.CombinedOutput()
	if len(other.Requests()) == 0 {
		t.Fatalf("the vault CLI did not talk to %s", other.URL)
	}
	checkNoTokenAt(t, other, tok, "vault-1.13 token lookup -address=OTHER")
}

// TestVaultHelperShellStartupSetsVaultAddr: the vault CLI runs
// the helper through `$SHELL -c`, and zsh reads ~/.zshenv, fish its
// config.fish, for every -c: a user who keeps `export VAULT_ADDR=<the
// login's Vault>` there (the usual place for a zsh or fish user's
// variables) and runs `VAULT_ADDR=OTHER vault ...` for another Vault has
// a helper that sees the login's address, not the one the vault CLI
// uses, and gives the token, which the CLI sends to OTHER. The helper
// checks its own environment, not the vault process's.
func TestVaultHelperShellStartupSetsVaultAddr(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "vth13bz-users")
	u.ok(t, "setup", "--vault-token-helper")
	tok := tokenOut(u.ok(t, "token", "--for", "vault"))
	own := u.env["VAULT_ADDR"]
	for _, c := range []struct{ shell, file, line string }{
		{"zsh", filepath.Join(u.home, ".zshenv"), "export VAULT_ADDR=" + own + "\n"},
		{"fish", filepath.Join(u.env["XDG_CONFIG_HOME"], "fish", "config.fish"), "set -gx VAULT_ADDR " + own + "\n"},
	} {
		t.Run(c.shell, func(t *testing.T) {
			sh, err := exec.LookPath(c.shell)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.file, []byte(c.line), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(c.file) })
			other := otherVault(t)
			o := *u
			o.env = map[string]string{}
			for k, v := range u.env {
				o.env[k] = v
			}
			o.env["SHELL"] = sh
			o.env["VAULT_ADDR"] = other.URL
			_, _, _ = vaultCLI(t, &o, "", "token", "lookup")
			if len(other.Requests()) == 0 {
				t.Fatalf("the vault CLI did not talk to %s", other.URL)
			}
			checkNoTokenAt(t, other, tok, "SHELL="+c.shell+" VAULT_ADDR=OTHER vault token lookup")
		})
	}
}
