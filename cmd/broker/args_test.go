package main

import (
	"bytes"
	"strings"
	"testing"
)

// Usage errors and commands that need no server.
func TestArgs(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"validate the example", []string{"validate", "../../policies"}, exitOK, "is valid: 3 profile(s)", ""},
		{"validate: missing dir", []string{"validate", "testdata/nope"}, exitError, "", "could not read policies directory"},
		{"validate: two dirs", []string{"validate", "a", "b"}, exitUsage, "", "accepts at most 1 arg"},
		{"explain needs --roles", []string{"explain", "../../policies"}, exitUsage, "", "--roles needs at least one SSO role"},
		{"explain: two roles", []string{"explain", "../../policies", "--roles", "alice-ci-users,alice-build-operators"}, exitOK, "may use 2 profile(s)", ""},
		{"plan: unknown flag", []string{"plan", "--detailed"}, exitUsage, "", "unknown flag: --detailed"},
		{"plan: no tokens", []string{"plan", "../../policies"}, exitError, "", "no Vault token: set VAULT_TOKEN"},
		{"apply: no terminal", []string{"apply", "../../policies"}, exitUsage, "", "refusing to apply without a terminal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runBroker(nil, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errs, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{"yes\n": true, " yes \n": true, "y\n": false, "YES\n": false, "\n": false, "yes": true} {
		var out bytes.Buffer
		got, err := confirm(strings.NewReader(in), &out)
		if err != nil || got != want {
			t.Errorf("confirm(%q) = %v, %v; want %v", in, got, err, want)
		}
		if !strings.Contains(out.String(), "Only 'yes' is accepted") {
			t.Errorf("prompt: %q", out.String())
		}
	}
	if _, err := confirm(strings.NewReader(""), &bytes.Buffer{}); err == nil {
		t.Error("confirm on a closed input: no error")
	}
}
