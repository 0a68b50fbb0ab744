package tokenhelper

import (
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/envcontract"
)

// TestIdentify: the helper serves the vault and bao CLIs, known by
// their Go main package whatever the file is called, or, without Go
// build information, by a file name of vault or bao with a version or
// not; any other program only when token_helper_clients (the config
// file) names it (file name, absolute path or Go main package).
func TestIdentify(t *testing.T) {
	const tf = "github.com/hashicorp/terraform-provider-vault"
	tfExe := "/home/u/.terraform.d/plugins/terraform-provider-vault_v3.25.0_x5"
	for _, c := range []struct {
		name    string
		exe     string
		program string
		optIn   string
		want    envcontract.CLI
		served  bool
	}{
		{"vault", "/usr/bin/vault", "github.com/hashicorp/vault", "", envcontract.VaultCLI, true},
		{"versioned vault", "/opt/hashicorp/vault-1.13", "github.com/hashicorp/vault", "", envcontract.VaultCLI, true},
		{"vault under any name", "/home/u/bin/v", "github.com/hashicorp/vault", "", envcontract.VaultCLI, true},
		{"bao v2", "/usr/bin/bao", "github.com/openbao/openbao/v2", "", envcontract.BaoCLI, true},
		{"bao v1", "/usr/bin/bao", "github.com/openbao/openbao", "", envcontract.BaoCLI, true},
		{"no build info: vault", "/usr/local/bin/vault", "", "", envcontract.VaultCLI, true},
		{"no build info: vault_1.13.0", "/opt/vault_1.13.0", "", "", envcontract.VaultCLI, true},
		{"no build info: vault-v1.13.0", "/opt/vault-v1.13.0", "", "", envcontract.VaultCLI, true},
		{"no build info: bao2.1", "/opt/bao2.1", "", "", envcontract.BaoCLI, true},
		{"no build info: vault-ssh-helper", "/usr/bin/vault-ssh-helper", "", "", "", false},
		{"no build info: vaultwarden", "/usr/bin/vaultwarden", "", "", "", false},
		{"a Go program called vault", "/usr/bin/vault", "example.com/notvault", "", "", false},
		{"terraform provider", tfExe, tf, "", "", false},
		{"terraform provider, file name opt-in", tfExe, tf, "terraform-provider-vault*", "", true},
		{"terraform provider, package opt-in", tfExe, tf, "other, " + tf, "", true},
		{"terraform provider, path opt-in", tfExe, tf, "/home/u/.terraform.d/plugins/*", "", true},
		{"terraform provider, other opt-in", tfExe, tf, "terraform-provider-nomad*", "", false},
		{"bad pattern", tfExe, tf, "terraform-provider-vault[", "", false},
		{"the test binary", "/tmp/go-build/tokenhelper.test", "github.com/alisw/alilogin/internal/tokenhelper.test", "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cl := &Client{Exe: c.exe, Program: c.program}
			var clients []string
			if c.optIn != "" {
				clients = strings.Split(c.optIn, ", ")
			}
			cli, why := Identify(cl, clients)
			if cli != c.want || (why == "") != c.served {
				t.Errorf("Identify = %q, %q; want %q, served %v", cli, why, c.want, c.served)
			}
		})
	}
}
