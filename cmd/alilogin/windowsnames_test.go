package main

import (
	"strings"
	"testing"
)

// TestExecChildDropsEveryCaseOnWindows: on Windows a variable's name is
// case-insensitive (the CLIs' os.Getenv and the Go runtime's GODEBUG
// find Vault_Agent_Addr for VAULT_AGENT_ADDR): exec's child there keeps
// no spelling of a variable the contract removes or alilogin sets, and
// env unsets each spelling; on Linux the names stay exact.
func TestExecChildDropsEveryCaseOnWindows(t *testing.T) {
	cfg, rec := threeServers()
	environ := []string{"Vault_Agent_Addr=http://evil.example:8200", "bao_addr=http://evil.example:8200",
		"Consul_Http_Token_File=C:\\evil\\token", "godebug=http2debug=2", "Nomad_Skip_Verify=true", "vault_token=other", "Vault_Addr=http://evil.example:8200"}
	child := childEnvOn(environ, withNoProxy(environ, envVarsOn(cfg, rec, allKinds, environ, "windows")), rec.Profile, "windows")
	for _, kv := range environ {
		for _, c := range child {
			if c == kv {
				n, _, _ := strings.Cut(kv, "=")
				t.Errorf("exec's child on windows keeps %s, which Windows programs read as %s", kv, strings.ToUpper(n))
			}
		}
	}
	for _, c := range child {
		if strings.Contains(c, "http2debug") {
			t.Errorf("exec's child on windows has %s", c)
		}
	}
	unset := map[string]bool{}
	for _, v := range envVarsOn(cfg, rec, allKinds, environ, "windows") {
		if v.Unset {
			unset[v.Name] = true
		}
	}
	for _, n := range []string{"Vault_Agent_Addr", "bao_addr", "Consul_Http_Token_File", "Nomad_Skip_Verify"} {
		if !unset[n] {
			t.Errorf("env on windows does not unset %s", n)
		}
	}
	// Elsewhere the names are exact: another spelling is another
	// variable, which no CLI reads.
	linux := childEnvOn(environ, withNoProxy(environ, envVarsOn(cfg, rec, allKinds, environ, "linux")), rec.Profile, "linux")
	if !strings.Contains(strings.Join(linux, "\n"), "Vault_Agent_Addr=") {
		t.Errorf("exec's child on linux lost Vault_Agent_Addr")
	}
}
