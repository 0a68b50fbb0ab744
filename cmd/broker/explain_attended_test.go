package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// explain --roles shows a profile's attended tier: the command, what the
// privileged tokens get, the window, the budget and the sign-in's age.
func TestExplainShowsAttendedTier(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../policies")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "profiles.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tier := "profile \"ci-admin\" {\n  attended {\n    vault_policies = [\"ci-secrets-write\"]\n    nomad_management = true\n    window = \"10m\"\n    uses = 3\n    acr = \"urn:alice:stepup\"\n  }\n"
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "profile \"ci-admin\" {\n", tier, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "broker.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\nattended {\n  client_id = \"alice-alilogin-elevate\"\n}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
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
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != 0 {
			t.Fatalf("exit %d, stderr: %s", code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("stdout lacks %q:\n%s", w, out.String())
			}
		}
		if n := strings.Count(out.String(), "Attended tier") + strings.Count(out.String(), `"attended"`); n != 1 {
			t.Errorf("attended tier shown %d times, want once (ci-admin only):\n%s", n, out.String())
		}
	}
}
