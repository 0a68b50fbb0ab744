package reaper

import (
	"testing"
	"time"
)

func TestAttribution(t *testing.T) {
	profiles := []Profile{{Name: "ci", MaxTTL: time.Hour}, {Name: "ci-admins", MaxTTL: 2 * time.Hour}, {Name: "build"}}
	for _, tc := range []struct {
		name, nomad, consul, want string
	}{
		{"plain", "vault-ci-jwt-alice-1700000000000000000", "Vault ci jwt-alice 1700000000000000000", "ci"},
		{"longest wins", "vault-ci-admins-jwt-bob-1700000000000000000", "Vault ci-admins jwt-bob 1700000000000000000", "ci-admins"},
		{"ci with a dashed display name", "vault-ci-jwt-admins-x-1", "Vault ci jwt-admins-x 1", "ci"},
		{"unmanaged profile", "vault-other-jwt-alice-1", "Vault other jwt-alice 1", ""},
		{"hand-made", "ops-ci-token", "ci token for ops", ""},
		{"prefix only", "vault-ci", "Vault ci", ""},
		{"case matters", "Vault-ci-x-1", "vault ci x 1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, _ := NomadProfile(tc.nomad, profiles); p.Name != tc.want {
				t.Errorf("NomadProfile(%q) = %q, want %q", tc.nomad, p.Name, tc.want)
			}
			if p, _ := ConsulProfile(tc.consul, profiles); p.Name != tc.want {
				t.Errorf("ConsulProfile(%q) = %q, want %q", tc.consul, p.Name, tc.want)
			}
		})
	}
}

func TestAmbiguousUsesLargestMaxTTL(t *testing.T) {
	profiles := []Profile{{Name: "ci", MaxTTL: 9 * time.Hour}, {Name: "ci-admins", MaxTTL: time.Hour}}
	p, ok := NomadProfile("vault-ci-admins-jwt-bob-1", profiles)
	if !ok || p.Name != "ci-admins" || p.MaxTTL != 9*time.Hour {
		t.Fatalf("got %+v, %v; want ci-admins with the 9h max TTL of ci", p, ok)
	}
}
