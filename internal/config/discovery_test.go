package config

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/alisw/alilogin/internal/discovery"
)

// TestDiscovererCachesOnlyAcceptedDocuments: a document that Resolve
// refuses (a mount that climbs out of its path, plain http to a host that
// is not loopback) used to be cached before the refusal, and every local
// command then resolved the cached copy. Only a document that passes
// CheckDiscovery is kept.
func TestDiscovererCachesOnlyAcceptedDocuments(t *testing.T) {
	base := discovery.Document{Version: 1,
		SSO:      discovery.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
		Vault:    discovery.Vault{Addr: "https://vault.example:8200"},
		Profiles: []discovery.Profile{{Name: "ci", Roles: []string{"r"}}}}
	tests := []struct {
		name   string
		edit   func(*discovery.Document)
		cached bool
	}{
		{"accepted", func(*discovery.Document) {}, true},
		{"plain http across the network", func(d *discovery.Document) { d.Vault.Addr = "http://192.0.2.1:8200" }, false},
		{"mount with ..", func(d *discovery.Document) { d.Vault.JWTMount = "../../sys/policies/acl" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := base
			tt.edit(&doc)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(doc)
			}))
			defer srv.Close()
			dir := t.TempDir()
			getenv := func(k string) string {
				return map[string]string{"ALILOGIN_BROKER": srv.URL, "ALILOGIN_CONFIG": filepath.Join(dir, "none.hcl")}[k]
			}
			_, err := Resolve(Sources{Getenv: getenv, Discover: Discoverer(context.Background(), nil, dir)})
			if (err == nil) != tt.cached {
				t.Errorf("Resolve = %v, want accepted %v", err, tt.cached)
			}
			_, serr := os.Stat(filepath.Join(dir, DiscoveryCacheName))
			if got := serr == nil; got != tt.cached {
				t.Errorf("cached %v, want %v", got, tt.cached)
			}
		})
	}
}
