package e2e

import (
	"context"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestLoginTrustBindsTokens: a login records how the Vault's certificate
// was checked; a VAULT_CACERT of another CA, or a VAULT_TLS_SERVER_NAME,
// set afterwards does not make exec, env or the token helper hand the
// cached token to a man in the middle at the Vault's address that those
// settings would accept (exec and env: login needed, as for a login of
// another Vault). The control: the settings of the login are served.
func TestLoginTrustBindsTokens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, tok := tokenHelperUser(t, ctx, "trust-users")
	rec, err := getRecord(t, u, profile)
	if err != nil {
		t.Fatal(err)
	}
	// As a login made without a CA file records it (TestBrowserLogin
	// checks that a real login records it; the seeded one has none).
	if rec.VaultTrust, err = apiclient.Trust("", "", os.Getenv, runtime.GOOS); err != nil {
		t.Fatal(err)
	}
	putRecord(t, u, rec)
	dir := t.TempDir()
	public, attacker := newTestCA(t, "public CA"), newTestCA(t, "attacker CA")
	publicCA := writeTestFile(t, dir, "public.pem", public.pem)
	attackerCA := writeTestFile(t, dir, "attacker.pem", attacker.pem)
	u.env["PATH"] = teststack.BinDir() + ":" + os.Getenv("PATH")

	try := func(t *testing.T, name string, extra map[string]string, mitmReqs func() int, got func(from int) bool) {
		t.Run(name, func(t *testing.T) {
			o := withEnv(u, extra)
			before := mitmReqs()
			p := o.run(t, "exec", "--for", "vault", "--", "vault", "token", "lookup")
			if p.code() != cmdroot.Mismatch {
				t.Errorf("exec: exit %d, want %d (a login of other servers)\n%s", p.code(), cmdroot.Mismatch, p.stderr.String())
			}
			p = o.run(t, "env", "--for", "vault")
			if strings.Contains(p.stdout.String(), tok) || p.code() != cmdroot.Mismatch {
				t.Errorf("env: exit %d, the token printed: %v", p.code(), strings.Contains(p.stdout.String(), tok))
			}
			_, _, _ = vaultCLI(t, o, "", "token", "lookup")
			if got(before) {
				t.Errorf("%v: the man in the middle at the Vault's address got the token", extra)
			}
		})
	}

	// A certificate of the attacker's CA for 127.0.0.1, and its CA file.
	m2 := mitmVault(t, attacker.issue(t, nil, []net.IP{net.ParseIP("127.0.0.1")}))
	bindVaultTo(t, u, profile, m2.URL)
	try(t, "VAULT_CACERT of another CA", map[string]string{"VAULT_CACERT": attackerCA},
		func() int { return len(m2.Requests()) }, func(from int) bool { return tokenReached(m2.Requests()[from:], tok) })

	// The login was made with the public CA; a certificate of that CA
	// for evil.example, and VAULT_TLS_SERVER_NAME=evil.example.
	m1 := mitmVault(t, public.issue(t, []string{"evil.example"}, nil))
	bindVaultTo(t, u, profile, m1.URL)
	rec = mustRecord(t, u, profile)
	if rec.VaultTrust, err = apiclient.Trust(publicCA, "", os.Getenv, runtime.GOOS); err != nil {
		t.Fatal(err)
	}
	putRecord(t, u, rec)
	u.env["VAULT_CACERT"] = publicCA
	try(t, "VAULT_TLS_SERVER_NAME", map[string]string{"VAULT_TLS_SERVER_NAME": "evil.example"},
		func() int { return len(m1.Requests()) }, func(from int) bool { return tokenReached(m1.Requests()[from:], tok) })

	// Control: the login's own settings are served.
	if out, errText, _ := vaultCLI(t, u, "", "print", "token"); strings.TrimSpace(out) != tok {
		t.Errorf("control: the helper did not serve the login's own VAULT_CACERT: %s", errText)
	}
	if p := u.run(t, "env", "--for", "vault"); p.code() != 0 || !strings.Contains(p.stdout.String(), tok) {
		t.Errorf("control: env with the login's own VAULT_CACERT: exit %d\n%s", p.code(), p.stderr.String())
	}
}
