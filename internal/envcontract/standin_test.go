package envcontract

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/store"
)

// applied is environ after a shell applied vars.
func applied(environ []string, vars []Var) []string {
	out := slices.Clone(environ)
	for _, v := range vars {
		out = slices.DeleteFunc(out, func(kv string) bool { return len(kv) > len(v.Name) && kv[:len(v.Name)+1] == v.Name+"=" })
		if !v.Unset {
			out = append(out, v.Name+"="+v.Value)
		}
	}
	return out
}

// TestAgentEnvPutsTheServersBack: in a shell where agent mode replaced
// the servers' addresses with the agent's routes and unset their CA
// files, alilogin reads its configuration with the real values again
// (Restored), never a token; a variable the user changed since
// stays the user's.
func TestAgentEnvPutsTheServersBack(t *testing.T) {
	orig := []string{"HOME=/h", "VAULT_ADDR=https://vault.example:8200", "NOMAD_ADDR=https://nomad.example:4646", "NOMAD_CACERT=/ca.pem",
		"CONSUL_HTTP_ADDR=consul.example:8501", "CONSUL_HTTP_SSL=true", "NOMAD_TOKEN=old-real-token"}
	ins := []StandIn{
		{Kind: store.Vault, Addr: "http://127.0.0.1:1001", Gate: "g1"},
		{Kind: store.Nomad, Addr: "http://127.0.0.1:1002", Gate: "g2"},
		{Kind: store.Consul, Addr: "http://127.0.0.1:1003", Gate: "g3"},
	}
	shell := applied(orig, StandInVarsOn("p", ins, orig, "linux"))
	got := Restored(shell)
	want := []string{"HOME=/h", "VAULT_ADDR=https://vault.example:8200", "NOMAD_ADDR=https://nomad.example:4646", "NOMAD_CACERT=/ca.pem",
		"CONSUL_HTTP_ADDR=consul.example:8501", "CONSUL_HTTP_SSL=true",
		// The gates stay (they are what the shell has); no real token comes back.
		"VAULT_TOKEN=g1", "NOMAD_TOKEN=g2", "CONSUL_HTTP_TOKEN=g3", "ALILOGIN_PROFILE=p"}
	slices.Sort(got)
	slices.Sort(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("restored environment (-want +got):\n%s", d)
	}

	// The user points NOMAD_ADDR elsewhere by hand: that one stays.
	mine := applied(shell, []Var{{Name: "NOMAD_ADDR", Value: "https://other.example:4646"}})
	if v := Getenv(Restored(mine))("NOMAD_ADDR"); v != "https://other.example:4646" {
		t.Errorf("NOMAD_ADDR set by the user after agent mode: restored as %q", v)
	}
	// Without agent mode in it, the environment is left as it is.
	if d := cmp.Diff(orig, Restored(orig)); d != "" {
		t.Errorf("an environment without agent mode was changed:\n%s", d)
	}
}

// TestAgentModeEnvironmentCarriesNoKeyPath: a shell that had the
// direct-mode variables (eval "$(alilogin env)" or the hook without agent
// mode: the client key paths, a Consul token file) runs a tool in agent
// mode. Issue 21 item 3: the tool gets "no certificate or key paths". The
// variables are unset, but ALILOGIN_AGENT_ENV (base64 JSON, "was") keeps
// their old values, so the tool reads the key path from it, then the key.
func TestAgentModeEnvironmentCarriesNoKeyPath(t *testing.T) {
	secrets := map[string]string{
		"NOMAD_CLIENT_KEY":       "/home/u/.cache/alilogin/p/client-key.pem",
		"VAULT_CLIENT_KEY":       "/home/u/.cache/alilogin/p/vault-client-key.pem",
		"CONSUL_CLIENT_KEY":      "/home/u/.cache/alilogin/p/consul-client-key.pem",
		"CONSUL_HTTP_TOKEN_FILE": "/home/u/.consul-real-token",
	}
	orig := []string{"HOME=/h", "NOMAD_ADDR=https://nomad.example:4646", "VAULT_ADDR=https://vault.example:8200",
		"CONSUL_HTTP_ADDR=consul.example:8501", "NOMAD_TOKEN=real-nomad"}
	for k, v := range secrets {
		orig = append(orig, k+"="+v)
	}
	ins := []StandIn{
		{Kind: store.Vault, Addr: "http://127.0.0.1:1001", Gate: "g1"},
		{Kind: store.Nomad, Addr: "http://127.0.0.1:1002", Gate: "g2"},
		{Kind: store.Consul, Addr: "http://127.0.0.1:1003", Gate: "g3"},
	}
	child := applied(orig, StandInVarsOn("p", ins, orig, "linux"))
	var all strings.Builder
	for _, kv := range child {
		all.WriteString(kv + "\n")
		if v, ok := strings.CutPrefix(kv, SavedEnvVar+"="); ok {
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(b)
			all.WriteString("\n")
		}
	}
	for name, v := range secrets {
		if strings.Contains(all.String(), v) {
			t.Errorf("the agent-mode environment holds %s's value %s (decoded from %s)", name, v, SavedEnvVar)
		}
	}
}

// TestExecAgentForOneServerDropsOtherKeyPaths: `exec --agent --for nomad`
// from a direct-mode shell (the login's client key path in
// VAULT_CLIENT_KEY and CONSUL_CLIENT_KEY: one key for all servers) hands
// the child the key paths of the servers it opened no route for, in the
// clear.
func TestExecAgentForOneServerDropsOtherKeyPaths(t *testing.T) {
	key := "/home/u/.cache/alilogin/p/client-key.pem"
	orig := []string{"HOME=/h", "NOMAD_ADDR=https://nomad.example:4646", "NOMAD_CLIENT_KEY=" + key,
		"VAULT_ADDR=https://vault.example:8200", "VAULT_CLIENT_KEY=" + key, "VAULT_TOKEN=real-vault",
		"CONSUL_HTTP_ADDR=consul.example:8501", "CONSUL_CLIENT_KEY=" + key, "CONSUL_HTTP_TOKEN=real-consul"}
	ins := []StandIn{{Kind: store.Nomad, Addr: "http://127.0.0.1:1002", Gate: "g2"}}
	child := StandInChildOn("p", ins, orig, "linux")
	for _, kv := range child {
		if strings.Contains(kv, key) {
			t.Errorf("exec --agent --for nomad: the child has %s", kv)
		}
		if strings.Contains(kv, "real-") {
			t.Errorf("exec --agent --for nomad: the child has a real token: %s", kv)
		}
	}
}
