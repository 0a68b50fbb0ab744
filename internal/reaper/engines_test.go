package reaper

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// fakeEngines speaks Vault's GET sys/mounts and LIST <mount>/role(s).
func fakeEngines(t *testing.T, mounts map[string]string, roles map[string][]string) *apiclient.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/sys/mounts" {
			data := map[string]any{}
			for m, typ := range mounts {
				data[m+"/"] = map[string]string{"type": typ}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
			return
		}
		if r.Method == "LIST" {
			if keys, ok := roles[strings.TrimPrefix(r.URL.Path, "/v1/")]; ok {
				_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"keys": keys}})
				return
			}
		}
		http.Error(w, `{"errors":[]}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEngines(t *testing.T) {
	ctx := context.Background()
	vault := fakeEngines(t,
		map[string]string{"nomad": "nomad", "nomad-ci": "nomad", "consul": "consul", "secret": "kv", "nomda": "kv"},
		map[string][]string{
			"nomad/role":    {"ci", "ci-admins", "ci-x", "alilogin-broker"},
			"nomad-ci/role": {"build"},
			"consul/roles":  {"ci"},
		})
	byType, err := readMounts(ctx, vault)
	if err != nil {
		t.Fatal(err)
	}
	nomad := newEngines("nomad", byType)
	if err := nomad.check([]string{"nomad"}); err != nil {
		t.Errorf("check nomad/: %v", err)
	}
	for _, m := range []string{"nomda", "consul", "missing"} {
		if err := nomad.check([]string{m}); err == nil || !strings.Contains(err.Error(), "no nomad secrets engine at "+m+"/") {
			t.Errorf("check %s/: %v", m, err)
		}
	}
	managed := map[string]bool{"ci": true, "ci-admins": true, "alilogin": true}
	for _, tc := range []struct {
		label, mount string
		keep         bool
	}{
		{"vault-ci-jwt-alice-1", "nomad", false},
		{"vault-ci-admins-jwt-bob-1", "nomad", false},  // fits ci and ci-admins: both managed
		{"vault-ci-x-jwt-alice-1", "nomad", true},      // fits the hand-made role ci-x
		{"vault-alilogin-broker-tok-1", "nomad", true}, // the broker's own role, not profile alilogin's
		{"vault-build-jwt-alice-1", "nomad", true},     // a role of the other engine
		{"vault-ci-jwt-alice-1", "/nomad/", false},     // mount spelled with slashes
		{"vault-other-jwt-alice-1", "nomad", false},    // fits no role: left to the other checks
	} {
		why, err := nomad.ambiguous(ctx, vault, candidate{token: token{Label: tc.label}, Mount: tc.mount}, nomadFormat, managed)
		if err != nil || (why != "") != tc.keep {
			t.Errorf("%s on %s: kept because %q, %v; want kept %v", tc.label, tc.mount, why, err, tc.keep)
		}
	}
	consul := newEngines("consul", byType)
	if why, err := consul.ambiguous(ctx, vault, candidate{token: token{Label: "Vault ci jwt-alice 1"}, Mount: "consul"}, consulFormat, map[string]bool{"ci": true}); err != nil || why != "" {
		t.Errorf("consul: %q, %v", why, err)
	}
}
