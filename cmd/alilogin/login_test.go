package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
)

func TestLoginBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--store", "cloud"}, "invalid --store"},
		{[]string{"login", "--profile", "../etc"}, "invalid profile name"},
		{[]string{"login", "extra"}, "unknown command"},
		{[]string{"login", "--bogus"}, "unknown flag"},
	} {
		var stdout, stderr bytes.Buffer
		env := map[string]string{"HOME": t.TempDir()}
		code := run(context.Background(), tc.args, &cmdEnv{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Environ: func() []string { return nil }})
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), exitUsage, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q", tc.args, stdout.String())
		}
	}
}

func TestLoginIncompleteConfig(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"HOME": t.TempDir()}
	code := run(context.Background(), []string{"login"}, &cmdEnv{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(k string) string { return env[k] }})
	if code != exitError || !strings.Contains(stderr.String(), "no OIDC client id") || !strings.Contains(stderr.String(), "no Vault address") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestLoginBrokerUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + l.Addr().String()
	l.Close()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "ALILOGIN_BROKER": dead}
	getenv := func(k string) string { return env[k] }

	var stderr bytes.Buffer
	code := run(context.Background(), []string{"login"}, &cmdEnv{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: getenv})
	if code != exitError || !strings.Contains(stderr.String(), "discovery document of the broker at "+dead) {
		t.Errorf("incomplete config: exit %d, stderr %q", code, stderr.String())
	}

	// With a complete local configuration, login goes on (and here stops
	// at the SSO, which is down too).
	env["ALILOGIN_CLIENT_ID"], env["VAULT_ADDR"], env["ALILOGIN_ISSUER"] = "cli", dead, dead
	stderr.Reset()
	run(context.Background(), []string{"login", "--no-browser"}, &cmdEnv{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: getenv})
	if !strings.Contains(stderr.String(), "warning: could not read the discovery document") || !strings.Contains(stderr.String(), "going on with the local configuration") {
		t.Errorf("complete config: stderr %q", stderr.String())
	}
}
