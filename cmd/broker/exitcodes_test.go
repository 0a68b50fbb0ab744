package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestExitCodes: each code of the table in docs/commands.md that broker
// can end with without a server, as the number a script sees (the plan's
// changes, code 5, need the servers: cmd/broker/e2e
// TestApplyALICEExampleThenLogIn).
func TestExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring
	}{
		{"0: valid files", []string{"validate", "../../policies"}, 0, ""},
		{"0: the roles get a profile", []string{"explain", "../../policies", "--roles", "alice-ci-users"}, 0, ""},
		{"1: no such folder", []string{"validate", "testdata/nope"}, 1, "could not read policies directory"},
		{"1: plan without tokens", []string{"plan", "--detailed-exitcode", "../../policies"}, 1, "no Vault token"},
		{"2: unknown flag", []string{"plan", "--detailed"}, 2, "unknown flag: --detailed"},
		{"2: unknown command", []string{"plna"}, 2, "unknown command"},
		{"2: too many arguments", []string{"validate", "a", "b"}, 2, "accepts at most 1 arg"},
		{"2: explain without roles", []string{"explain", "../../policies"}, 2, "--roles needs at least one SSO role"},
		{"2: apply without a terminal", []string{"apply", "../../policies"}, 2, "refusing to apply without a terminal"},
		{"2: serve with a bad interval", []string{"serve", "--interval", "0s", "../../policies"}, 2, "must be positive"},
		{"6: the roles get no profile", []string{"explain", "../../policies", "--roles", "nobody"}, 6,
			"no profile allows the roles nobody: a user with only these roles cannot log in; the profiles of ../../policies allow alice-build-operators, alice-ci-admins, alice-ci-users"},
		{"6: also with --json", []string{"explain", "../../policies", "--roles", "nobody,none", "--json"}, 6, "no profile allows the roles nobody, none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runBroker(nil, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.stderr)
			}
		})
	}
}

// TestExplainNoProfileJSON: with --json, the answer for roles that get
// no profile is still printed (an empty list) before exit 6.
func TestExplainNoProfileJSON(t *testing.T) {
	code, out, _ := runBroker(nil, "explain", "../../policies", "--roles", "nobody", "--json")
	var got struct {
		Roles    []string          `json:"roles"`
		Profiles []json.RawMessage `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != exitNoProfile || len(got.Profiles) != 0 || len(got.Roles) != 1 {
		t.Errorf("exit %d, stdout %q (%v); want %d and {\"roles\":[\"nobody\"],\"profiles\":[]}", code, out, err, exitNoProfile)
	}
}
