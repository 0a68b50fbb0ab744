package tokenhelper

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/envcontract"
)

// TestFindCallerDecidesFromTheClient: the helper decides from the vault
// CLI that runs it (its environment and command line), from its own
// environment only where no process can be read (every CLI's rules
// then), and gives a reason instead when the client is not served or
// cannot be read; token_helper_clients comes from the config file.
func TestFindCallerDecidesFromTheClient(t *testing.T) {
	home := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config")}[k]
	}
	own := []string{"VAULT_ADDR=https://own.example:8200"}
	vault := &Client{Exe: "/usr/bin/vault", Program: "github.com/hashicorp/vault", Args: []string{"kv", "get"}, Env: []string{"VAULT_ADDR=https://v.example:8200"}}
	tf := &Client{Exe: "/home/u/.terraform.d/plugins/terraform-provider-vault_v4", Env: []string{"VAULT_ADDR=https://v.example:8200"}}

	c, why := FindCaller(func() (*Client, error) { return vault, nil }, getenv, own)
	if d := cmp.Diff(Caller{CLI: envcontract.VaultCLI, Env: vault.Env, Args: vault.Args}, c); d != "" || why != "" {
		t.Errorf("the vault CLI: %q (-want +got)\n%s", why, d)
	}
	c, why = FindCaller(func() (*Client, error) { return nil, ErrNoProcessView }, getenv, own)
	if d := cmp.Diff(Caller{Env: own}, c); d != "" || why != "" {
		t.Errorf("no process view: %q (-want +got)\n%s", why, d)
	}
	if _, why = FindCaller(func() (*Client, error) { return nil, errors.New("could not read /proc/1/environ") }, getenv, own); why == "" {
		t.Errorf("an unreadable client is served")
	}
	if _, why = FindCaller(func() (*Client, error) { return tf, nil }, getenv, own); why == "" {
		t.Errorf("a program the config file does not name is served")
	}
	dir := filepath.Join(home, "config", "alilogin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte("token_helper_clients = [\"terraform-provider-vault*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, why = FindCaller(func() (*Client, error) { return tf, nil }, getenv, own)
	if d := cmp.Diff(Caller{Env: tf.Env}, c); d != "" || why != "" {
		t.Errorf("a program the config file names: %q (-want +got)\n%s", why, d)
	}
}
