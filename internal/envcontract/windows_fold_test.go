package envcontract_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/store"
)

// On Windows a variable's name is compared without regard to case by
// upper-casing (RtlUpcaseUnicodeChar's table; strings.ToUpper here):
// VAULT_SKıP_VERIFY, with the dotless ı (U+0131) whose upper case is I,
// is read as VAULT_SKIP_VERIFY. Before the environment contract moved to
// internal/envcontract, exec's child dropped every name whose
// strings.ToUpper was a removed one (childEnvOn's key); ApplyOn now
// compares with strings.EqualFold (simple case folding, which does not
// fold ı to I), and keeps it: the child's vault and nomad CLIs send their
// tokens without checking the certificate, or read the token file.
func TestExecChildOnWindowsDropsNamesThatUpperCaseToAContractVariable(t *testing.T) {
	cfg, rec := threeServers()
	h := envcontract.FromRecord(cfg, rec, allKinds)
	environ := []string{
		"VAULT_SK\u0131P_VERIFY=true",
		"NOMAD_SK\u0131P_VERIFY=true",
		"CONSUL_HTTP_TOKEN_F\u0131LE=C:\\evil\\token",
		"CONSUL_HTTP_SSL_VER\u0131FY=false",
	}
	child := h.ChildOn(environ, "windows")
	for _, kv := range environ {
		if slices.Contains(child, kv) {
			n, _, _ := strings.Cut(kv, "=")
			t.Errorf("exec's child on windows keeps %s, which upper-cases to %s", kv, strings.ToUpper(n))
		}
	}
}

// The same spelling on the other two paths (not changed by the move:
// both compared with strings.EqualFold before it too): env on Windows
// (PowerShell) does not unset VAULT_SKıP_VERIFY, and the token helper,
// which off Linux judges its own environment under Reroutes, does not
// refuse a vault CLI that has it.
func TestEnvAndTokenHelperOnWindowsSeeNamesThatUpperCaseToARerouteVariable(t *testing.T) {
	cfg, rec := threeServers()
	h := envcontract.FromRecord(cfg, rec, allKinds)
	environ := []string{"VAULT_ADDR=http://vault.example:8200", "VAULT_SK\u0131P_VERIFY=true"}
	unset := false
	for _, v := range h.VarsOn(environ, "windows") {
		if v.Unset && v.Name == "VAULT_SK\u0131P_VERIFY" {
			unset = true
		}
	}
	if !unset {
		t.Errorf("env on windows does not unset VAULT_SK\u0131P_VERIFY (read as VAULT_SKIP_VERIFY)")
	}
	if l := envcontract.Reroutes(envcontract.VaultCLI, store.Vault, environ, "windows"); len(l) == 0 {
		t.Errorf("the token helper's rules on windows find no reroute variable in %v", environ)
	}
}
