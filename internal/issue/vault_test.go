package issue

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// fakeVault answers every request with status and body.
func fakeVault(t *testing.T, status int, body string) *apiclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoginErrors(t *testing.T) {
	req := VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("id-token-secret"), UserRoles: []string{"a", "b"}, RequiredRoles: []string{"ci-users"}}
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		refused bool
		want    []string
	}{
		{"bound claims", 400, `{"errors":["error validating claims: claim \"cern_roles\" does not match any associated bound claim values"]}`, true,
			[]string{`profile "ci"`, "Your SSO roles: a, b.", "requires one of: ci-users", "does not match"}},
		{"no such role", 400, `{"errors":["role \"ci\" could not be found"]}`, true, []string{`profile "ci" is unknown`, `has no role "ci"`}},
		{"no jwt mount", 404, `{"errors":[]}`, false, []string{"no JWT auth method at auth/jwt"}},
		{"server error", 500, `{"errors":["internal error"]}`, false, []string{"could not log in to Vault", "500"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VaultLogin(context.Background(), fakeVault(t, tc.status, tc.body), req, time.Now())
			var re *RefusedError
			if errors.As(err, &re) != tc.refused {
				t.Errorf("refused = %v, want %v (%v)", !tc.refused, tc.refused, err)
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if err != nil && strings.Contains(err.Error(), "id-token-secret") {
				t.Error("the ID token is in the error")
			}
		})
	}
}

// TestLoginUnknownProfile: a profile Vault has no role for is reported
// as unknown, listing the profiles the configuration knows, else
// pointing to broker explain; never "ask for the role in the CERN
// Application Portal" (no role would make it exist).
func TestLoginUnknownProfile(t *testing.T) {
	body := `{"errors":["role \"ci\" could not be found"]}`
	for _, tc := range []struct {
		name  string
		known []string
		from  string
		want  []string
	}{
		{"profiles known", []string{"ci-user", "ci-admin", "build-operator"}, "from the config file",
			[]string{`profile "ci" is unknown`, `has no role "ci"`, "Known profiles (from the config file): ci-user, ci-admin, build-operator.", "--profile"}},
		{"none known", nil, "", []string{`profile "ci" is unknown`, "broker explain --roles a,b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("id-token-secret"), UserRoles: []string{"a", "b"},
				KnownProfiles: tc.known, KnownFrom: tc.from}
			_, err := VaultLogin(context.Background(), fakeVault(t, 400, body), req, time.Now())
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RefusedError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
			if strings.Contains(err.Error(), "Application Portal") {
				t.Errorf("error sends the user to the Application Portal for a profile that does not exist:\n%s", err)
			}
		})
	}
}

func TestLoginUnreachable(t *testing.T) {
	c, _ := apiclient.New("Vault", "http://127.0.0.1:1", "X-Vault-Token", apiclient.TLS{}, time.Second)
	_, err := VaultLogin(context.Background(), c, VaultLoginRequest{Mount: "jwt", Role: "ci"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "Vault at http://127.0.0.1:1 is unreachable") {
		t.Errorf("err = %v", err)
	}
}

func TestLoginToken(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := fakeVault(t, 200, `{"auth":{"client_token":"hvs.x","accessor":"acc","policies":["default","ci"],"lease_duration":3600,"renewable":true}}`)
	tok, err := VaultLogin(context.Background(), c, VaultLoginRequest{Mount: "jwt", Role: "ci"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Secret.Reveal() != "hvs.x" || tok.Accessor != "acc" || !tok.ExpiresAt.Equal(now.Add(time.Hour)) || !tok.Renewable || len(tok.Policies) != 2 {
		t.Errorf("token %+v", tok)
	}
}

func TestMintPartial(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/nomad/creds/ci", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"lease_id":"nomad/creds/ci/1","lease_duration":600,"renewable":true,"data":{"accessor_id":"a","secret_id":"nomad-secret"}}`))
	})
	mux.HandleFunc("GET /v1/consul/creds/ci", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		w.Write([]byte(`{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, _ := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	m := &Minted{}
	m.Nomad, m.NomadErr = Mint(context.Background(), c.WithToken(secret.New("v")), store.Nomad, Target{Mount: "nomad"}, "ci", time.Now())
	m.Consul, m.ConsulErr = Mint(context.Background(), c.WithToken(secret.New("v")), store.Consul, Target{Mount: "consul"}, "ci", time.Now())
	if m.Nomad == nil || m.Nomad.Secret.Reveal() != "nomad-secret" || m.Nomad.LeaseID != "nomad/creds/ci/1" || m.NomadErr != nil {
		t.Errorf("nomad: %+v, %v", m.Nomad, m.NomadErr)
	}
	var pe *PermissionError
	if m.Consul != nil || !errors.As(m.ConsulErr, &pe) || !strings.Contains(m.ConsulErr.Error(), "consul/creds/ci") {
		t.Errorf("consul: %+v, %v", m.Consul, m.ConsulErr)
	}
	if m.Err() == nil {
		t.Error("Err() = nil for a partial mint")
	}
}

// TestRevokeLeasePathForm: the lease id goes in the path, so that a policy
// on sys/leases/revoke/<mount>/creds/<profile>/* can allow it.
func TestRevokeLeasePathForm(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, _ := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err := RevokeLease(context.Background(), c.WithToken(secret.New("v")), "nomad/creds/ci/Ab3.x y"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"PUT /v1/sys/leases/revoke/nomad/creds/ci/Ab3.x%20y "}, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	err := RevokeLease(context.Background(), fakeVault(t, 403, `{"errors":["permission denied"]}`).WithToken(secret.New("v")), "consul/creds/ci/1")
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Path != "sys/leases/revoke/consul/creds/ci/1" {
		t.Errorf("403: %v", err)
	}
}

// TestRenewLeasePathForm: the lease id goes in the path and the body
// holds the increment at most (nothing for the lease's own TTL), so that
// a policy on sys/leases/renew/<mount>/creds/<profile>/* admitting only
// increment can allow it, and Vault's default policy can deny lease_id
// in the body.
func TestRenewLeasePathForm(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"lease_id":"nomad/creds/ci/Ab3.x","lease_duration":600,"renewable":true}`))
	}))
	defer srv.Close()
	c, _ := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	now := time.Now()
	for _, inc := range []time.Duration{0, 30 * time.Minute} {
		l, err := RenewLease(context.Background(), c.WithToken(secret.New("v")), "nomad/creds/ci/Ab3.x y", inc, now)
		if err != nil {
			t.Fatal(err)
		}
		if !l.ExpiresAt.Equal(now.Add(600 * time.Second)) {
			t.Errorf("expires at %s", l.ExpiresAt)
		}
	}
	want := []string{
		"PUT /v1/sys/leases/renew/nomad/creds/ci/Ab3.x%20y ",
		`PUT /v1/sys/leases/renew/nomad/creds/ci/Ab3.x%20y {"increment":1800}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	_, err := RenewLease(context.Background(), fakeVault(t, 403, `{"errors":["permission denied"]}`).WithToken(secret.New("v")), "consul/creds/ci/1", 0, now)
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Path != "sys/leases/renew/consul/creds/ci/1" {
		t.Errorf("403: %v", err)
	}
}
