package discovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() Document {
	return Document{
		Version: Version,
		SSO:     SSO{Issuer: "https://auth.example/realms/x", ClientID: "alilogin", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault:   Vault{Addr: "https://vault.example:8200", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Nomad:   Server{Addr: "https://nomad.example:4646"},
		Consul:  Server{Addr: "https://consul.example:8501"},
		Profiles: []Profile{
			{Name: "ci", Roles: []string{"alice-ci-users"}, Nomad: true, Consul: true},
			{Name: "ci-admin", Roles: []string{"alice-ci-admins", "alice-build-operators"}, Nomad: true},
		},
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"host", "https://broker.example", "https://broker.example/v1/discovery"},
		{"trailing slash", "https://broker.example/", "https://broker.example/v1/discovery"},
		{"prefix", "http://127.0.0.1:8080/broker/", "http://127.0.0.1:8080/broker/v1/discovery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := URL(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("URL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "broker.example", "ftp://x", "http://"} {
		if _, err := URL(bad); err == nil {
			t.Errorf("URL(%q) accepted", bad)
		}
	}
}

func TestAllowed(t *testing.T) {
	d := sample()
	for _, tc := range []struct {
		name  string
		roles []string
		want  []string
	}{
		{"none", []string{"other"}, nil},
		{"one", []string{"alice-ci-users"}, []string{"ci"}},
		{"both", []string{"alice-build-operators", "alice-ci-users"}, []string{"ci", "ci-admin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range d.Allowed(tc.roles) {
				got = append(got, p.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	d := sample()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case Path:
			_ = json.NewEncoder(w).Encode(d)
		case "/broken" + Path:
			_, _ = w.Write([]byte(`{"version":1}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	got, err := Fetch(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&d, got); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := Fetch(context.Background(), srv.Client(), srv.URL+"/broken"); err == nil || !strings.Contains(err.Error(), "no SSO issuer") {
		t.Errorf("broken document: %v", err)
	}
	if _, err := Fetch(context.Background(), srv.Client(), srv.URL+"/nothing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing document: %v", err)
	}
}

func TestAgentReadOnlyRoundTrip(t *testing.T) {
	d := sample()
	d.Profiles[0].Agent.ReadOnly = true
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"agent":{"read_only":true}`) {
		t.Errorf("document: %s", b)
	}
	// A profile without the setting has no agent member, so the document
	// an older broker served reads the same.
	if strings.Count(string(b), `"agent"`) != 1 {
		t.Errorf("agent member on a profile without the setting: %s", b)
	}
	var back Document
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
