package e2e

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// TestVaultTokenHelperServesOnlyTheVaultCLI: the token helper gives the
// token to the vault CLI (the stack's binary, also under a versioned
// name), and not to another program that runs it, as
// terraform-provider-vault does (which takes its Vault address from a
// .tf file the helper cannot see): that one gets nothing, and a line
// that names token_helper_clients; with its name in that setting of
// alilogin's config file it gets the token. Its name in the environment
// (ALILOGIN_TOKEN_HELPER_CLIENTS, as an earlier alilogin read it: the
// client's environment is what the contract treats as hostile) serves
// nothing.
func TestVaultTokenHelperServesOnlyTheVaultCLI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, tok := tokenHelperUser(t, ctx, "vthc-users")
	script := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin", "vault-token-helper")

	vault, err := teststack.Bin("vault")
	if err != nil {
		t.Fatal(err)
	}
	versioned := filepath.Join(t.TempDir(), "vault-1.13")
	if err := os.Link(vault, versioned); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(versioned, "print", "token")
	for k, v := range u.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != tok {
		t.Errorf("vault-1.13 print token: %v, %d bytes; want the token", err, len(out))
	}

	// Another program that runs the helper through `sh -c`, as the
	// vault API's token helper does: a copy of timeout(1) (it runs its
	// command as a child and waits) named as terraform's provider is.
	provider := filepath.Join(t.TempDir(), "terraform-provider-vault_v3.25.0_x5")
	copyFile(t, requireTool(t, "timeout"), provider)
	cfgPath := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin", "config.hcl")
	orig, err := os.ReadFile(cfgPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	get := func(optIn string) (string, string) {
		t.Helper()
		cfg := string(orig)
		if optIn != "" {
			cfg += "\ntoken_helper_clients = [\"" + optIn + "\"]\n"
		}
		u.writeConfig(t, cfg)
		cmd := exec.Command(provider, "60", "sh", "-c", script+" get; true")
		for k, v := range u.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		return out.String(), errb.String()
	}
	if out, errText := get(""); out != "" || !strings.Contains(errText, "is not the vault or bao CLI") || !strings.Contains(errText, "token_helper_clients") {
		t.Errorf("terraform-provider-vault: got %d bytes, stderr %q; want nothing and the opt-in named", len(out), errText)
	}
	if out, errText := get("terraform-provider-nomad*"); out != "" {
		t.Errorf("another program opted in: terraform-provider-vault got %d bytes (stderr %q)", len(out), errText)
	}
	if out, errText := get("terraform-provider-vault*"); out != tok {
		t.Errorf("opted in: got %d bytes, stderr %q; want the token", len(out), errText)
	}
	// The environment opts nobody in.
	u.writeConfig(t, string(orig))
	cmd = exec.Command(provider, "60", "sh", "-c", script+" get; true")
	for k, v := range u.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "ALILOGIN_TOKEN_HELPER_CLIENTS=terraform-provider-vault*")
	if out, _ := cmd.Output(); len(out) != 0 {
		t.Errorf("ALILOGIN_TOKEN_HELPER_CLIENTS in the client's environment opted terraform-provider-vault in: got %d bytes", len(out))
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
