package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/testutil"
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
		env := testutil.Home(t, nil)
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
	env := testutil.Home(t, nil)
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

func noControls(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) || r == 0x202e {
			t.Errorf("%s holds %U:\n%q", what, r, s)
			return
		}
	}
}

// TestLoginPrintsSSOErrorsClean runs `alilogin login` (in process,
// the same run() as main) against an SSO whose discovery endpoint fails
// in two ways that put server text on stderr without termtext.Clean:
//   - a man in the middle with a certificate whose DNS SAN holds escape
//     sequences (Go's x509 error quotes the SANs raw);
//   - the SSO answering 500 with escape sequences in the body (go-oidc
//     quotes the body raw).
//
// Both go through ssoError and main's "alilogin: %v".
func TestLoginPrintsSSOErrorsClean(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"initialized":true,"sealed":false,"standby":false}`))
	}))
	t.Cleanup(vault.Close)

	mitm, err := hostile.NewCertNameServer(http.NotFoundHandler(), "auth.cern.ch\x1b]0;pwned\x07\x1b[2J\x1b[H\ralilogin: logged in")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mitm.Close)

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("maintenance\x1b]0;pwned\x07\x1b[2J"))
	}))
	t.Cleanup(down.Close)

	for _, tc := range []struct{ name, issuer string }{
		{"certificate SAN", mitm.LocalhostURL()},
		{"discovery error body", down.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testutil.Home(t, map[string]string{"ALILOGIN_CLIENT_ID": "cli", "VAULT_ADDR": vault.URL, "ALILOGIN_ISSUER": tc.issuer})
			stderr := failedLogin(t, env)
			noControls(t, "stderr of alilogin login", stderr)
		})
	}
}

// TestLoginPrintsVaultTLSErrorClean: session.CheckVault, login's preflight,
// takes the cause out of the *apiclient.Error (whose Error() cleans it)
// and prints it with %v: a man in the middle in front of Vault with a
// certificate whose SAN holds escape sequences reaches the terminal
// through "could not verify the certificate of Vault at ...".
func TestLoginPrintsVaultTLSErrorClean(t *testing.T) {
	mitm, err := hostile.NewCertNameServer(http.NotFoundHandler(), "vault.cern.ch\x1b]0;pwned\x07\x1b[2J\x1b[H")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mitm.Close)

	p := hostile.NewOIDCProvider(hostile.OIDCOptions{})
	t.Cleanup(p.Close)
	env := testutil.Home(t, map[string]string{"ALILOGIN_CLIENT_ID": "alilogin", "VAULT_ADDR": mitm.LocalhostURL(), "ALILOGIN_ISSUER": p.Issuer})
	stderr := failedLogin(t, env)
	t.Log(stderr)
	noControls(t, "stderr of alilogin login", stderr)
}

// failedLogin runs `alilogin login --no-browser --timeout 2s` in env,
// fails t if it succeeds, and returns its stderr.
func failedLogin(t *testing.T, env map[string]string) string {
	t.Helper()
	var stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"login", "--no-browser", "--timeout", "2s"}, &cmdEnv{Stdout: &bytes.Buffer{}, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }})
	if code == 0 {
		t.Fatalf("login succeeded: %s", stderr.String())
	}
	return stderr.String()
}
