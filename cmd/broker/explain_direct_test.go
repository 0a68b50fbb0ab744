package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// explain --roles shows a profile's direct login: its mode, the Nomad
// and Consul auth methods, the Consul role and the tokens' lifetime;
// nothing when broker.hcl does not enable it.
func TestExplainShowsDirectLogin(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../policies")); err != nil {
		t.Fatal(err)
	}
	explainOut := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"explain", dir}, args...), &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != 0 {
			t.Fatalf("exit %d, stderr: %s", code, errb.String())
		}
		return out.String()
	}
	if out := explainOut("--roles", "alice-ci-users"); strings.Contains(out, "Direct login") {
		t.Errorf("direct login shown without the broker.hcl block:\n%s", out)
	}
	f, err := os.OpenFile(filepath.Join(dir, "broker.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\ndirect_login {\n  enabled = true\n}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
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
