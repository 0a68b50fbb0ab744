package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// TestLoopbackSpellingNeverThroughProxy: VAULT_ADDR, NOMAD_ADDR and
// CONSUL_HTTP_ADDR spelled http://LOCALHOST:PORT (the stack's servers)
// with HTTP_PROXY set to a recording proxy. Go exempts only lower-case
// localhost and loopback IPs from HTTP_PROXY, so the loopback rule, which
// let the plain-http address pass, must not leave the proxy in the path:
// the renewal chain (Vault login, Nomad and Consul creds), a renew-self
// and `exec -- vault token lookup` all reach the servers directly, and
// the proxy sees nothing. The token helper, whose login is bound to
// http://localhost:PORT, gives no token to a vault CLI whose VAULT_ADDR
// says LOCALHOST (that CLI goes through the proxy), and gives it to one
// that says localhost.
func TestLoopbackSpellingNeverThroughProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := newSessionUser(t, ctx, "1h", "loud-users")
	for _, k := range []string{"VAULT_ADDR", "NOMAD_ADDR", "CONSUL_HTTP_ADDR"} {
		u.env[k] = strings.Replace(u.env[k], "127.0.0.1", "LOCALHOST", 1)
	}
	seed(t, ctx, u, profile, "loud-users")
	proxy := otherVault(t)
	u.env["HTTP_PROXY"] = proxy.URL
	u.env["PATH"] = teststack.BinDir() + ":" + u.env["PATH"]

	tok := tokenOut(u.ok(t, "token", "--for", "vault")) // the chain's step 4
	rec, err := getRecord(t, u, profile)
	if err != nil {
		t.Fatal(err)
	}
	rec.Vault.ExpiresAt = time.Now().Add(time.Minute)
	putRecord(t, u, rec)
	u.ok(t, "token", "--for", "vault", "-v") // renew-self, with the token in clear on http
	if rec, err = getRecord(t, u, profile); err != nil || time.Until(rec.Vault.ExpiresAt) < 30*time.Minute {
		t.Fatalf("the token was not renewed: %v", err)
	}
	p := u.ok(t, "exec", "--", "vault", "token", "lookup", "-format=json")
	if !strings.Contains(p.stdout.String(), tok) {
		t.Errorf("exec -- vault token lookup:\n%s", p.stdout.String())
	}
	if n := len(proxy.Requests()); n != 0 {
		r := proxy.Requests()[0]
		t.Errorf("%d requests went through HTTP_PROXY, the first %s %s (token %v)", n, r.Method, r.Path, r.Header.Get("X-Vault-Token") != "")
	}

	u.ok(t, "setup", "--vault-token-helper")
	_, _, _ = vaultCLI(t, u, "", "token", "lookup") // VAULT_ADDR=http://LOCALHOST:PORT
	if len(proxy.Requests()) == 0 {
		t.Fatalf("the vault CLI did not send http://LOCALHOST through HTTP_PROXY")
	}
	checkNoTokenAt(t, proxy, tok, "vault token lookup with VAULT_ADDR=http://LOCALHOST and HTTP_PROXY")
	lower := *u
	lower.env = map[string]string{}
	for k, v := range u.env {
		lower.env[k] = v
	}
	lower.env["VAULT_ADDR"] = strings.Replace(u.env["VAULT_ADDR"], "LOCALHOST", "localhost", 1)
	if out, errText, code := vaultCLI(t, &lower, "", "print", "token"); code != 0 || strings.TrimSpace(out) != tok {
		t.Errorf("vault print token with VAULT_ADDR=http://localhost and HTTP_PROXY: exit %d, %d bytes; want the token\n%s", code, len(out), errText)
	}
}
