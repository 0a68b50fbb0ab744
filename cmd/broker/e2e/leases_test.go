package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/serve"
	"github.com/alisw/alilogin/internal/store"
)

// vaultToken logs user in with JWT role profile (vaultLogin) and returns
// the Vault token.
func vaultToken(t *testing.T, user, profile string) string {
	t.Helper()
	return vaultLogin(t, user, profile).Token.Reveal()
}

// mintLease mints a Nomad or Consul token of role with the Vault token
// and returns it with its lease, the way alilogin does.
func mintLease(t *testing.T, vaultToken, kind, role string) *store.Token {
	t.Helper()
	e, mount := store.Nomad, "nomad"
	if kind == "consul" {
		e, mount = store.Consul, "consul"
	}
	tok, err := issue.Mint(context.Background(), vaultC.WithToken(secret.New(vaultToken)), e, issue.Target{Mount: mount}, role, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// leaseKept fails t at once when the lease id has less than a minute
// under before left: attack shortened or revoked whose lease.
func leaseKept(t *testing.T, attack, whose, id string, before time.Duration) {
	t.Helper()
	if ttl := leaseTTL(t, id); ttl < before-time.Minute {
		t.Fatalf("%s: %s lease has %s left (had %s)", attack, whose, ttl, before)
	}
}

// tokenAlive checks that the Nomad or Consul (kind) token tok, whose,
// still works at its server.
func tokenAlive(t *testing.T, kind, whose string, tok *store.Token) {
	t.Helper()
	srv := nomadC
	if kind == "consul" {
		srv = consulC
	}
	if err := srv.WithToken(tok.Secret).Do(context.Background(), "GET", "/v1/acl/token/self", nil, nil); err != nil {
		t.Errorf("%s %s token: %v", whose, kind, err)
	}
}

// leaseTTL is the time left on a lease, as the root token looks it up;
// 0 when the lease is gone.
func leaseTTL(t *testing.T, id string) time.Duration {
	t.Helper()
	var out struct {
		Data struct {
			TTL int64 `json:"ttl"`
		} `json:"data"`
	}
	if err := vaultC.Do(context.Background(), "PUT", "/v1/sys/leases/lookup", map[string]string{"lease_id": id}, &out); err != nil {
		if apiclient.StatusOf(err) == 400 {
			return 0 // "invalid lease"
		}
		t.Fatal(err)
	}
	return time.Duration(out.Data.TTL) * time.Second
}

// vaultRequest sends one request to Vault with token, a body of the given
// content type (JSON or a form), and returns the HTTP status.
func vaultRequest(t *testing.T, token, method, path, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, stack.Vault.Addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	t.Logf("%s %s -> %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	return resp.StatusCode
}

func jsonBody(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestProfileTokenCannotRevokeOrShortenAnotherProfilesLease: Vault 1.13
// takes lease_id from the request body before the URL, and its default
// policy lets every token renew any lease by body (an increment of one
// second makes the lease expire). A profile's token, however it phrases
// the request (the path form of its own lease with another lease in the
// body, JSON or form, the key in upper case, the old sys/renew, the
// revoke-prefix path), neither revokes nor shortens a lease of another
// profile, and a profile with no Nomad or Consul leases touches none
// either. Its own leases it still renews and revokes the way alilogin
// does (issue.RenewLease, issue.RevokeLease).
func TestProfileTokenCannotRevokeOrShortenAnotherProfilesLease(t *testing.T) {
	setup(t)
	ctx := context.Background()
	dir := policiesDir(t, map[string]string{"more.hcl": vaultOnlyProfile})
	mustApply(t, dir)
	attacker := vaultToken(t, "alice", "ci-user")
	leaseless := vaultToken(t, "alice", "vault-only")
	victim := vaultToken(t, "dave", "build-operator")
	for _, kind := range []string{"nomad", "consul"} {
		t.Run(kind, func(t *testing.T) {
			own := mintLease(t, attacker, kind, "ci-user")
			other := mintLease(t, victim, kind, "build-operator")
			before := leaseTTL(t, other.LeaseID)
			const form = "application/x-www-form-urlencoded"
			attacks := []struct {
				name, token, path, contentType, body string
			}{
				{"revoke: own lease in the path, another's in the body", attacker, "/v1/sys/leases/revoke/" + own.LeaseID, "", jsonBody(map[string]any{"lease_id": other.LeaseID})},
				{"revoke: the same, asynchronously", attacker, "/v1/sys/leases/revoke/" + own.LeaseID, "", jsonBody(map[string]any{"lease_id": other.LeaseID, "sync": false})},
				{"revoke: the same as a form", attacker, "/v1/sys/leases/revoke/" + own.LeaseID, form, "lease_id=" + url.QueryEscape(other.LeaseID)},
				{"revoke: upper-case key", attacker, "/v1/sys/leases/revoke/" + own.LeaseID, "", jsonBody(map[string]any{"LEASE_ID": other.LeaseID})},
				{"revoke: another's lease in the path", attacker, "/v1/sys/leases/revoke/" + other.LeaseID, "", ""},
				{"revoke: by prefix", attacker, "/v1/sys/leases/revoke-prefix/" + kind + "/creds/build-operator", "", ""},
				{"revoke: the body form", attacker, "/v1/sys/leases/revoke", "", jsonBody(map[string]any{"lease_id": other.LeaseID})},
				{"renew: another's lease to one second", attacker, "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew: the same as a form", attacker, "/v1/sys/leases/renew", form, "increment=1&lease_id=" + url.QueryEscape(other.LeaseID)},
				{"renew: the old path", attacker, "/v1/sys/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew: by a profile without leases", leaseless, "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew: the old path, by a profile without leases", leaseless, "/v1/sys/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
			}
			for _, a := range attacks {
				if code := vaultRequest(t, a.token, "PUT", a.path, a.contentType, a.body); code != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", a.name, code)
				}
				leaseKept(t, a.name, "the other profile's", other.LeaseID, before)
			}
			// The other user's token still works at its server.
			tokenAlive(t, kind, "the other profile's", other)

			// The profile's own leases, as alilogin handles them.
			me := vaultC.WithToken(secret.New(attacker))
			if _, err := issue.RenewLease(ctx, me, own.LeaseID, 0, time.Now()); err != nil {
				t.Errorf("renewing the profile's own lease: %v", err)
			}
			if _, err := issue.RenewLease(ctx, me, own.LeaseID, 30*time.Minute, time.Now()); err != nil {
				t.Errorf("renewing the profile's own lease with an increment: %v", err)
			}
			var pe *issue.PermissionError
			if _, err := issue.RenewLease(ctx, me, other.LeaseID, 0, time.Now()); !errors.As(err, &pe) {
				t.Errorf("renewing another profile's lease with alilogin's call: %v, want a permission error", err)
			}
			if err := issue.RevokeLease(ctx, me, own.LeaseID); err != nil {
				t.Errorf("revoking the profile's own lease: %v", err)
			}
			if ttl := leaseTTL(t, own.LeaseID); ttl != 0 {
				t.Errorf("own lease still there (%s left) after its revocation", ttl)
			}
		})
	}
}

// TestBrokerServeTokenTouchesOnlyItsOwnLeases: the Vault policies that
// `broker serve` runs with (docs/broker-vault-policy.hcl and
// docs/deploy/vault-broker-serve.hcl, plus Vault's default policy with
// the recommended lease deny) let serve's own code (serve.LeasedToken:
// the path forms sys/leases/renew/<id> and sys/leases/revoke/<id>) read,
// renew and revoke the leases of its own Nomad and Consul tokens, and no
// other lease: not a user's, whether revoked or renewed to one second,
// in the body or the path form.
func TestBrokerServeTokenTouchesOnlyItsOwnLeases(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	mustApply(t, dir)
	// The broker's own roles and policies, as docs/deploy/operations.md
	// sets them up.
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/alilogin-broker", map[string]any{"policy": readFile(t, "../../../docs/broker-vault-policy.hcl")}, nil)
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/alilogin-broker-serve", map[string]any{"policy": readFile(t, "../../../docs/deploy/vault-broker-serve.hcl")}, nil)
	mustDo(t, consulC, "PUT", "/v1/acl/policy", map[string]any{"Name": "alilogin-broker", "Rules": readFile(t, "../../../docs/deploy/consul-broker.hcl")}, nil)
	mustDo(t, vaultC, "POST", "/v1/nomad/role/alilogin-broker", map[string]any{"type": "management"}, nil)
	mustDo(t, vaultC, "POST", "/v1/consul/roles/alilogin-broker", map[string]any{"consul_policies": []string{"alilogin-broker"}}, nil)
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	mustDo(t, vaultC, "POST", "/v1/auth/token/create", map[string]any{"policies": []string{"alilogin-broker", "alilogin-broker-serve", "default"}, "ttl": "10m"}, &tok)
	serveToken := tok.Auth.ClientToken
	user := vaultToken(t, "carol", "ci-admin")

	for _, kind := range []string{"nomad", "consul"} {
		t.Run(kind, func(t *testing.T) {
			other := mintLease(t, user, kind, "ci-admin")
			before := leaseTTL(t, other.LeaseID)
			for _, a := range []struct{ name, path, body string }{
				{"revoke a user's lease", "/v1/sys/leases/revoke", jsonBody(map[string]any{"lease_id": other.LeaseID})},
				{"renew a user's lease to one second", "/v1/sys/leases/renew", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew a user's lease to one second, the old path", "/v1/sys/renew", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"revoke a user's lease in the path form", "/v1/sys/leases/revoke/" + other.LeaseID, ""},
				{"renew a user's lease to one second in the path form", "/v1/sys/leases/renew/" + other.LeaseID, jsonBody(map[string]any{"increment": 1})},
			} {
				if code := vaultRequest(t, serveToken, "PUT", a.path, "", a.body); code != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", a.name, code)
				}
				leaseKept(t, a.name, "the user's", other.LeaseID, before)
			}
			// Its own lease, with serve's own code.
			ctx := context.Background()
			own := &serve.LeasedToken{Vault: vaultC.WithToken(secret.New(serveToken)), Path: kind + "/creds/alilogin-broker"}
			if err := own.Fetch(ctx); err != nil {
				t.Fatal(err)
			}
			lease := own.LeaseID()
			if _, err := own.Renew(ctx); err != nil {
				t.Errorf("serve renewing its own lease: %v", err)
			}
			if err := own.Revoke(ctx); err != nil {
				t.Errorf("serve revoking its own lease: %v", err)
			}
			if ttl := leaseTTL(t, lease); ttl != 0 {
				t.Errorf("the broker's own lease still there (%s left) after its revocation", ttl)
			}
		})
	}
}

// TestProfileTokenCannotRevokeAnotherUsersCertificate: a client
// certificate dies with its lease (generate_lease), and a profile's token
// that names another user's certificate lease in the body of its own
// revocation path gets 403, the certificate unrevoked; revoking it at the
// PKI mount takes the certificate's key (revoke-with-key), which a
// profile without client certificates may not even call.
func TestProfileTokenCannotRevokeAnotherUsersCertificate(t *testing.T) {
	setupPKI(t)
	ctx := context.Background()
	dir := certPolicies(t)
	mustApply(t, dir)
	c, err := clientcert.Sign(ctx, vaultLogin(t, "alice", "ci-user"), "pki", "ci-user", "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	var leases struct {
		Data struct{ Keys []string } `json:"data"`
	}
	mustDo(t, vaultC, "LIST", "/v1/sys/leases/lookup/pki/sign/ci-user/", nil, &leases)
	if len(leases.Data.Keys) == 0 {
		t.Fatal("no certificate lease under pki/sign/ci-user")
	}
	dave := vaultToken(t, "dave", "build-operator")
	for _, k := range leases.Data.Keys {
		body := jsonBody(map[string]any{"lease_id": "pki/sign/ci-user/" + k})
		if code := vaultRequest(t, dave, "PUT", "/v1/sys/leases/revoke/nomad/creds/build-operator/x", "", body); code != http.StatusForbidden {
			t.Errorf("revoking a certificate's lease by body: status %d, want 403", code)
		}
	}
	key, _, err := clientcert.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	body := jsonBody(map[string]any{"serial_number": c.Serial, "private_key": key.Reveal()})
	if code := vaultRequest(t, dave, "PUT", "/v1/pki/revoke-with-key", "", body); code != http.StatusForbidden {
		t.Errorf("revoke-with-key by a profile without certificates: status %d, want 403", code)
	}
	revoked, err := testPKI.RevokedSerials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(revoked, c.Serial) {
		t.Errorf("alice's certificate %s was revoked", c.Serial)
	}
}

// rawVaultRequest sends a request line exactly as given (no path
// cleaning by Go's client), so that "..", "//" and %2e reach Vault, and
// returns the status (0 when Vault closed the connection unanswered).
func rawVaultRequest(t *testing.T, token, method, rawPath, contentType, body string) int {
	t.Helper()
	u, err := url.Parse(stack.Vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if contentType == "" {
		contentType = "application/json"
	}
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nX-Vault-Token: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		method, rawPath, u.Host, token, contentType, len(body), body)
	buf := make([]byte, 2048)
	n, _ := conn.Read(buf)
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	var code int
	_, _ = fmt.Sscanf(line, "HTTP/1.1 %d", &code)
	t.Logf("%s %s -> %s", method, rawPath, line)
	return code
}

// defaultOnlyToken is a Vault token with Vault's default policy only, as
// any other auth method, a CI's AppRole or a Nomad workload gets one.
func defaultOnlyToken(t *testing.T) string {
	t.Helper()
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	mustDo(t, vaultC, "POST", "/v1/auth/token/create", map[string]any{"policies": []string{"default"}, "ttl": "10m"}, &tok)
	return tok.Auth.ClientToken
}

// defaultTokenCannotShorten tries every phrasing of "renew the lease
// other to one second" with a token of Vault's default policy only, and
// fails the test when the lease lost time or its token stopped working.
func defaultTokenCannotShorten(t *testing.T, outsider string, other *store.Token, kind string) {
	t.Helper()
	before := leaseTTL(t, other.LeaseID)
	const form = "application/x-www-form-urlencoded"
	for _, a := range []struct{ name, path, ct, body string }{
		{"body", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
		{"old path", "/v1/sys/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
		{"upper-case key", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"LEASE_ID": other.LeaseID, "increment": 1})},
		{"form", "/v1/sys/leases/renew", form, "increment=1&lease_id=" + url.QueryEscape(other.LeaseID)},
		{"form, repeated key", "/v1/sys/leases/renew", form, "increment=1&lease_id=" + url.QueryEscape(other.LeaseID) + "&lease_id=x"},
		{"leading slash", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": "/" + other.LeaseID, "increment": 1})},
		{"leading space", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": " " + other.LeaseID, "increment": 1})},
		{"path form", "/v1/sys/leases/renew/" + other.LeaseID, "", jsonBody(map[string]any{"increment": 1})},
		{"old path form", "/v1/sys/renew/" + other.LeaseID, "", jsonBody(map[string]any{"increment": 1})},
		{"query string", "/v1/sys/leases/renew?lease_id=" + url.QueryEscape(other.LeaseID) + "&increment=1", "", ""},
	} {
		code := rawVaultRequest(t, outsider, "PUT", a.path, a.ct, a.body)
		if a.name == "body" && code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", a.name, code)
		}
		leaseKept(t, a.name, "the "+kind, other.LeaseID, before)
	}
	tokenAlive(t, kind, "the profile's", other)
}

// TestDefaultPolicyTokenCannotShortenAProfileLease: every Vault token has
// Vault's default policy, which allows sys/leases/renew and sys/renew
// for any lease id in the body; a token with nothing else (another auth
// method, a CI's AppRole, a Nomad workload, `vault token create`) would
// renew a user's Nomad or Consul lease with an increment of one second,
// and Vault would revoke the token a second later. In the recommended
// configuration (Vault's default policy denies the lease ids of the
// broker's engines, plan.DefaultPolicyLeaseDeny, as the test stack sets
// it up) no phrasing of it changes the lease.
func TestDefaultPolicyTokenCannotShortenAProfileLease(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	mustApply(t, dir)
	outsider := defaultOnlyToken(t)
	victim := vaultToken(t, "dave", "build-operator")
	for _, kind := range []string{"nomad", "consul"} {
		t.Run(kind, func(t *testing.T) {
			defaultTokenCannotShorten(t, outsider, mintLease(t, victim, kind, "build-operator"), kind)
		})
	}
}

// TestBrokerWarnsWhileVaultDefaultPolicyLetsAnyTokenShortenLeases: the
// broker does not own Vault's default policy, so plan and apply read it
// and, while it lets any token renew the profiles' leases by body, warn
// with the exact HCL to add (exit codes unchanged); that HCL, added,
// closes the hole on the real Vault and silences the warning.
func TestBrokerWarnsWhileVaultDefaultPolicyLetsAnyTokenShortenLeases(t *testing.T) {
	setup(t)
	ctx := context.Background()
	var def struct {
		Data struct {
			Policy string `json:"policy"`
		} `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/policies/acl/default", nil, &def)
	t.Cleanup(func() {
		_ = vaultC.Do(ctx, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": def.Data.Policy}, nil)
	})
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": stack.Vault.StockDefaultPolicy}, nil)

	dir := policiesDir(t, nil)
	const warning = "warning: Vault's default policy lets every token renew"
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	if code != exitOK || !strings.Contains(stderr, warning) {
		t.Fatalf("apply with Vault's stock default policy: exit %d, stderr lacks %q", code, warning)
	}
	code, _, stderr = broker(t, "plan", dir)
	if code != exitOK || !strings.Contains(stderr, warning) {
		t.Fatalf("plan with Vault's stock default policy: exit %d, stderr lacks %q", code, warning)
	}
	// The HCL the warning gives (plan's stderr has the warnings only),
	// from its first path block to the end.
	start := strings.Index(stderr, "path \"sys/leases/renew\"")
	end := strings.LastIndex(stderr, "}\n")
	if start < 0 || end < start {
		t.Fatalf("the warning gives no HCL to add:\n%s", stderr)
	}
	add := stderr[start : end+2]
	for _, want := range []string{`"nomad/creds/*"`, `"consul/creds/*"`, `path "sys/renew"`, "denied_parameters"} {
		if !strings.Contains(add, want) {
			t.Errorf("the HCL to add lacks %s:\n%s", want, add)
		}
	}
	// A default-only token shortens a profile lease now...
	outsider := defaultOnlyToken(t)
	victim := mintLease(t, vaultToken(t, "dave", "build-operator"), "nomad", "build-operator")
	if code := vaultRequest(t, outsider, "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": victim.LeaseID, "increment": 3600})); code != http.StatusOK {
		t.Fatalf("a default-only token renewing a profile's lease under the stock default policy: %d (the hole this test is about is not there)", code)
	}
	// ...and not with the HCL added.
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": stack.Vault.StockDefaultPolicy + "\n" + add}, nil)
	for _, kind := range []string{"nomad", "consul"} {
		defaultTokenCannotShorten(t, outsider, mintLease(t, vaultToken(t, "dave", "build-operator"), kind, "build-operator"), kind)
	}
	code, _, stderr = broker(t, "plan", dir)
	if code != exitOK || strings.Contains(stderr, "default policy") {
		t.Errorf("plan with the HCL added to Vault's default policy: exit %d, still warns:\n%s", code, stderr)
	}
}

// TestProfileTokenCannotReachAnotherProfilesLeaseByAnyPhrasing: more
// phrasings of "revoke or shorten another profile's lease" than
// TestProfileTokenCannotRevokeOrShortenAnotherProfilesLease: dot segments
// and encoded slashes in the revoke and renew paths, ".." inside a lease
// id, arrays and objects as lease_id, url_lease_id in the body, a
// repeated form key, a query string on PUT, the legacy sys/revoke and
// sys/renew path forms, revoke-force, a response-wrapped request, GET and
// DELETE with the id in the query, the profile's own renewal path with
// another lease in the body, and a profile whose name is a prefix of the
// victim's ("ci" against "ci-user"). None changes the victim's lease.
func TestProfileTokenCannotReachAnotherProfilesLeaseByAnyPhrasing(t *testing.T) {
	setup(t)
	const prefixProfile = `
profile "ci" {
  roles           = ["alice-ci-users"]
  vault_policies  = ["ci-secrets-read"]
  nomad_policies  = ["ci-read-jobs"]
  consul_policies = ["catalog-kv-read"]
}
`
	dir := policiesDir(t, map[string]string{"more.hcl": prefixProfile})
	mustApply(t, dir)
	attacker := vaultToken(t, "alice", "ci")
	victimTok := vaultToken(t, "alice", "ci-user")
	for _, kind := range []string{"nomad", "consul"} {
		t.Run(kind, func(t *testing.T) {
			own := mintLease(t, attacker, kind, "ci")
			other := mintLease(t, victimTok, kind, "ci-user")
			before := leaseTTL(t, other.LeaseID)
			suffix := strings.TrimPrefix(other.LeaseID, kind+"/creds/ci-user/")
			ownPrefix := kind + "/creds/ci/"
			const form = "application/x-www-form-urlencoded"
			type attack struct{ name, method, path, ct, body string }
			inc := jsonBody(map[string]any{"increment": 1})
			attacks := []attack{
				{"revoke: dot segments in the path", "PUT", "/v1/sys/leases/revoke/" + ownPrefix + "../ci-user/" + suffix, "", ""},
				{"revoke: encoded dot segments", "PUT", "/v1/sys/leases/revoke/" + ownPrefix + "%2e%2e/ci-user/" + suffix, "", ""},
				{"revoke: encoded slashes", "PUT", "/v1/sys/leases/revoke/" + ownPrefix + "..%2Fci-user%2F" + suffix, "", ""},
				{"revoke: double slash", "PUT", "/v1/sys/leases/revoke/" + ownPrefix + "/../ci-user/" + suffix, "", ""},
				{"revoke: glob prefix of another profile", "PUT", "/v1/sys/leases/revoke/" + kind + "/creds/ci-user/" + suffix, "", ""},
				{"revoke: query string on PUT", "PUT", "/v1/sys/leases/revoke/" + own.LeaseID + "?lease_id=" + url.QueryEscape(other.LeaseID), "", ""},
				{"revoke: query string, form type, empty body", "PUT", "/v1/sys/leases/revoke/" + own.LeaseID + "?lease_id=" + url.QueryEscape(other.LeaseID), form, ""},
				{"revoke: DELETE with the id in the query", "DELETE", "/v1/sys/leases/revoke/" + own.LeaseID + "?lease_id=" + url.QueryEscape(other.LeaseID), "", ""},
				{"revoke: GET with the id in the query", "GET", "/v1/sys/leases/revoke/" + own.LeaseID + "?lease_id=" + url.QueryEscape(other.LeaseID), "", ""},
				{"revoke: legacy sys/revoke path form", "PUT", "/v1/sys/revoke/" + other.LeaseID, "", ""},
				{"revoke: revoke-force", "PUT", "/v1/sys/leases/revoke-force/" + kind + "/creds/ci-user", "", ""},
				{"revoke: url_lease_id in the body", "PUT", "/v1/sys/leases/revoke/" + own.LeaseID, "", jsonBody(map[string]any{"url_lease_id": other.LeaseID})},
				{"revoke: mixed-case key", "PUT", "/v1/sys/leases/revoke/" + own.LeaseID, "", jsonBody(map[string]any{"Lease_Id": other.LeaseID})},
				{"renew: dot segments inside an own-looking lease id", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": ownPrefix + "../ci-user/" + suffix, "increment": 1})},
				{"renew: lease id as an array", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": []string{other.LeaseID}, "increment": 1})},
				{"renew: lease id as an array with an own one", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": []string{own.LeaseID, other.LeaseID}, "increment": 1})},
				{"renew: lease id as an object", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": map[string]string{"x": other.LeaseID}, "increment": 1})},
				{"renew: url_lease_id in the body", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"url_lease_id": other.LeaseID, "increment": 1})},
				{"renew: repeated form key", "PUT", "/v1/sys/leases/renew", form, "increment=1&lease_id=" + url.QueryEscape(own.LeaseID) + "&lease_id=" + url.QueryEscape(other.LeaseID)},
				{"renew: path form", "PUT", "/v1/sys/leases/renew/" + other.LeaseID, "", inc},
				{"renew: path form, dot segments", "PUT", "/v1/sys/leases/renew/" + ownPrefix + "../ci-user/" + suffix, "", inc},
				{"renew: path form, encoded dot segments", "PUT", "/v1/sys/leases/renew/" + ownPrefix + "%2e%2e/ci-user/" + suffix, "", inc},
				{"renew: path form, encoded slashes", "PUT", "/v1/sys/leases/renew/" + ownPrefix + "..%2Fci-user%2F" + suffix, "", inc},
				{"renew: own path, another's lease in the body", "PUT", "/v1/sys/leases/renew/" + own.LeaseID, "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew: own path, another's lease in a form", "PUT", "/v1/sys/leases/renew/" + own.LeaseID, form, "increment=1&lease_id=" + url.QueryEscape(other.LeaseID)},
				{"renew: own path, url_lease_id in the body", "PUT", "/v1/sys/leases/renew/" + own.LeaseID, "", jsonBody(map[string]any{"url_lease_id": other.LeaseID, "increment": 1})},
				{"renew: legacy path form", "PUT", "/v1/sys/renew/" + other.LeaseID, "", inc},
				{"renew: query string on PUT", "PUT", "/v1/sys/leases/renew?lease_id=" + url.QueryEscape(other.LeaseID) + "&increment=1", "", ""},
				{"renew: leading slash", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": "/" + other.LeaseID, "increment": 1})},
				{"renew: the prefix profile's glob", "PUT", "/v1/sys/leases/renew", "", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
			}
			for _, a := range attacks {
				// Only the victim's lease counts: a 204 on "query string on
				// PUT" is Vault revoking the attacker's own lease (the
				// query is ignored); no status on the array and object
				// lease ids is Vault 1.13.0 panicking on lease_id.(string)
				// before the ACL (net/http recovers).
				rawVaultRequest(t, attacker, a.method, a.path, a.ct, a.body)
				leaseKept(t, a.name, "the victim's", other.LeaseID, before)
			}
			// A response-wrapped renewal is checked all the same.
			req, err := http.NewRequest("PUT", stack.Vault.Addr+"/v1/sys/leases/renew", strings.NewReader(jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Vault-Token", attacker)
			req.Header.Set("X-Vault-Wrap-TTL", "60s")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode < 300 {
					t.Errorf("wrapped renewal: status %d", resp.StatusCode)
				}
			}
			leaseKept(t, "a wrapped renewal", "the victim's", other.LeaseID, before)
			tokenAlive(t, kind, "the victim's", other)
		})
	}
}
