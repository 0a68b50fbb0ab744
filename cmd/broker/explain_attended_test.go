package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// explain --roles shows a profile's attended tier: the command, what the
// privileged tokens get, the window, the budget and the sign-in's age.
func TestExplainShowsAttendedTier(t *testing.T) {
	dir := examplePolicies(t, nil)
	tier := "profile \"ci-admin\" {\n  attended {\n    vault_policies = [\"ci-secrets-write\"]\n    nomad_management = true\n    window = \"10m\"\n    uses = 3\n    acr = \"urn:alice:stepup\"\n  }\n"
	replaceInFile(t, filepath.Join(dir, "profiles.hcl"), "profile \"ci-admin\" {\n", tier)
	appendToFile(t, filepath.Join(dir, "broker.hcl"), "\nattended {\n  client_id = \"alice-alilogin-elevate\"\n}\n")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"explain", dir, "--roles", "alice-ci-admins"}, []string{
			"  Attended tier (alilogin elevate --profile ci-admin), after a sign-in at most 2m0s old, carrying acr \"urn:alice:stepup\":\n" +
				"    Vault policies:  alilogin-attended-ci-admin, ci-secrets-write, default\n" +
				"    Nomad:           a management token\n" +
				"    Consul policies: (none)\n" +
				"    Window at most 10m0s, at most 3 write request(s)\n"}},
		{[]string{"explain", dir, "--roles", "alice-ci-admins", "--json"}, []string{`"nomad_management": true`, `"window": "10m0s"`, `"max_age": "2m0s"`, `"uses": 3`}},
	} {
		code, out, errs := runBroker(nil, c.args...)
		if code != 0 {
			t.Fatalf("exit %d, stderr: %s", code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("stdout lacks %q:\n%s", w, out)
			}
		}
		if n := strings.Count(out, "Attended tier") + strings.Count(out, `"attended"`); n != 1 {
			t.Errorf("attended tier shown %d times, want once (ci-admin only):\n%s", n, out)
		}
	}
}
