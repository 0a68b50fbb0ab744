package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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
	e, mount := issue.Nomad, "nomad"
	if kind == "consul" {
		e, mount = issue.Consul, "consul"
	}
	tok, err := issue.Mint(context.Background(), vaultC.WithToken(secret.New(vaultToken)), e, issue.Target{Mount: mount}, role, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
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
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d", code)
	}
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
				if ttl := leaseTTL(t, other.LeaseID); ttl < before-time.Minute {
					t.Fatalf("%s: the other profile's lease has %s left (had %s)", a.name, ttl, before)
				}
			}
			// The other user's token still works at its server.
			srv := nomadC
			if kind == "consul" {
				srv = consulC
			}
			if err := srv.WithToken(other.Secret).Do(ctx, "GET", "/v1/acl/token/self", nil, nil); err != nil {
				t.Errorf("the other profile's %s token: %v", kind, err)
			}

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
// docs/deploy/vault-broker-serve.hcl, plus Vault's default policy) let it
// renew and revoke the leases of its own Nomad and Consul tokens the way
// it does (internal/serve: lease_id in the body), and no other lease: not
// a user's, whether revoked or renewed to one second.
func TestBrokerServeTokenTouchesOnlyItsOwnLeases(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d", code)
	}
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
			var own struct {
				LeaseID string `json:"lease_id"`
			}
			mustDo(t, vaultC.WithToken(secret.New(serveToken)), "GET", "/v1/"+kind+"/creds/alilogin-broker", nil, &own)
			other := mintLease(t, user, kind, "ci-admin")
			before := leaseTTL(t, other.LeaseID)
			for _, a := range []struct{ name, path, body string }{
				{"revoke a user's lease", "/v1/sys/leases/revoke", jsonBody(map[string]any{"lease_id": other.LeaseID})},
				{"renew a user's lease to one second", "/v1/sys/leases/renew", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"renew a user's lease to one second, the old path", "/v1/sys/renew", jsonBody(map[string]any{"lease_id": other.LeaseID, "increment": 1})},
				{"revoke a user's lease in the path form", "/v1/sys/leases/revoke/" + other.LeaseID, ""},
			} {
				if code := vaultRequest(t, serveToken, "PUT", a.path, "", a.body); code != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", a.name, code)
				}
				if ttl := leaseTTL(t, other.LeaseID); ttl < before-time.Minute {
					t.Fatalf("%s: the user's lease has %s left (had %s)", a.name, ttl, before)
				}
			}
			// Its own lease, as internal/serve renews and revokes it.
			serve := vaultC.WithToken(secret.New(serveToken))
			mustDo(t, serve, "PUT", "/v1/sys/leases/renew", map[string]string{"lease_id": own.LeaseID}, nil)
			mustDo(t, serve, "PUT", "/v1/sys/leases/revoke", map[string]string{"lease_id": own.LeaseID}, nil)
			if ttl := leaseTTL(t, own.LeaseID); ttl != 0 {
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
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d", code)
	}
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
