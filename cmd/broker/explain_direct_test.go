package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// explain --roles shows a profile's direct login: its mode, the Nomad
// and Consul auth methods, the Consul role and the tokens' lifetime;
// nothing when broker.hcl does not enable it.
func TestExplainShowsDirectLogin(t *testing.T) {
	dir := examplePolicies(t, nil)
	explainOut := func(args ...string) string {
		t.Helper()
		code, out, errs := runBroker(nil, append([]string{"explain", dir}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d, stderr: %s", code, errs)
		}
		return out
	}
	if out := explainOut("--roles", "alice-ci-users"); strings.Contains(out, "Direct login") {
		t.Errorf("direct login shown without the broker.hcl block:\n%s", out)
	}
	appendToFile(t, filepath.Join(dir, "broker.hcl"), "\ndirect_login {\n  enabled = true\n}\n")
	out := explainOut("--roles", "alice-ci-users")
	want := "  Direct login (fallback: when Vault cannot give the tokens): Nomad auth method alilogin-ci-user, Consul auth method alilogin-ci-user (role alilogin-direct-ci-user); each token lives 1h0m0s, then a new login\n"
	if !strings.Contains(out, want) {
		t.Errorf("explain:\n%s\nwant the line:\n%s", out, want)
	}
	js := explainOut("--roles", "alice-ci-users", "--json")
	for _, w := range []string{`"mode": "fallback"`, `"nomad_auth_method": "alilogin-ci-user"`, `"consul_role": "alilogin-direct-ci-user"`, `"token_ttl": "1h0m0s"`} {
		if !strings.Contains(js, w) {
			t.Errorf("explain --json lacks %s:\n%s", w, js)
		}
	}
}
