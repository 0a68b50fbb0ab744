package reaper

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	now := created.Add(3 * time.Hour)
	nanos := strconv.FormatInt(created.Add(-20*time.Millisecond).UnixNano(), 10)
	profiles := []Profile{
		{Name: "ci", MaxTTL: time.Hour, Nomad: Grant{Mount: "nomad", Policies: []string{"read-jobs"}}, Consul: Grant{Mount: "consul", Policies: []string{"kv-read"}}},
		{Name: "ci-admins", MaxTTL: 2 * time.Hour, Nomad: Grant{Mount: "nomad", Policies: []string{"read-jobs", "submit-jobs"}}},
		{Name: "long", MaxTTL: 9 * time.Hour, Nomad: Grant{Mount: "nomad", Policies: []string{"read-jobs"}}},
		// An attended tier of ci with Nomad management tokens.
		{Name: "ci.attended", MaxTTL: 10 * time.Minute, Nomad: Grant{Mount: "nomad", Management: true}},
	}
	mgmtTok := func(label string, policies ...string) token {
		return token{Accessor: "m", Label: label, Created: created, Management: true, Policies: policies}
	}
	nomadTok := func(label string, policies ...string) token {
		return token{Accessor: "a", Label: label, Created: created, Client: true, Policies: policies}
	}
	for _, tc := range []struct {
		name    string
		tok     token
		consul  bool
		want    string // the profile, "" for no candidate
		wantAge bool   // old enough
	}{
		{"as Vault makes it", nomadTok("vault-ci-jwt-alice-"+nanos, "read-jobs"), false, "ci", true},
		{"empty display name", nomadTok("vault-ci--"+nanos, "read-jobs"), false, "ci", true},
		{"display name with dashes", nomadTok("vault-ci-jwt-admins-x-"+nanos, "read-jobs"), false, "ci", true},
		{"longest profile that fits", nomadTok("vault-ci-admins-jwt-bob-"+nanos, "submit-jobs"), false, "ci-admins", true},
		{"consul", token{Label: "Vault ci jwt-alice " + nanos, Created: created, Client: true, Policies: []string{"kv-read"}}, true, "ci", true},
		{"management token made by hand", token{Label: "vault-ci-deploy-key", Created: created, Policies: nil}, false, "", false},
		{"management type with Vault's name", token{Label: "vault-ci-jwt-alice-" + nanos, Created: created, Policies: []string{"read-jobs"}}, false, "", false},
		{"time in the name is not the create time", nomadTok("vault-ci-jwt-alice-"+strconv.FormatInt(created.Add(-2*time.Minute).UnixNano(), 10), "read-jobs"), false, "", false},
		{"seconds, not nanoseconds", nomadTok("vault-ci-jwt-alice-"+strconv.FormatInt(created.Unix(), 10), "read-jobs"), false, "", false},
		{"foreign policy", nomadTok("vault-ci-jwt-alice-"+nanos, "read-jobs", "node-write"), false, "", false},
		{"profile grants no consul", token{Label: "Vault ci-admins jwt-bob " + nanos, Created: created, Client: true}, true, "", false},
		{"unmanaged profile", nomadTok("vault-other-jwt-alice-"+nanos, "read-jobs"), false, "", false},
		{"no time", nomadTok("vault-ci-jwt-alice", "read-jobs"), false, "", false},
		{"time cut short by the length limit", nomadTok("vault-ci-jwt-alice-"+nanos[:12], "read-jobs"), false, "", false},
		{"name cut before the time", nomadTok(("vault-ci-jwt-" + strings.Repeat("x", 300))[:256], "read-jobs"), false, "", false},
		{"signed number", nomadTok("vault-ci-jwt-alice-+"+nanos[1:], "read-jobs"), false, "", false},
		{"case matters", nomadTok("Vault-ci-jwt-alice-"+nanos, "read-jobs"), false, "", false},
		{"expires by itself (a JWT login's token)", token{Label: "vault-ci-jwt-alice-" + nanos, Created: created, Client: true, Policies: []string{"read-jobs"}, Expires: true}, false, "", false},
		{"zero create time", token{Label: "vault-ci-jwt-alice-" + nanos, Client: true}, false, "", false},
		{"attended management token", mgmtTok("vault-ci.attended-oidc-carol-" + nanos), false, "ci.attended", true},
		{"management token named like an everyday profile's", mgmtTok("vault-ci-jwt-alice-" + nanos), false, "", false},
		{"client token named like a management tier's", nomadTok("vault-ci.attended-oidc-carol-"+nanos, "read-jobs"), false, "", false},
		{"management token with policies", mgmtTok("vault-ci.attended-oidc-carol-"+nanos, "read-jobs"), false, "", false},
		{"management token made by hand, attended name", mgmtTok("vault-ci.attended-deploy-key"), false, "", false},
		{"young", token{Label: "vault-long-jwt-alice-" + nanos, Created: created, Client: true, Policies: []string{"read-jobs"}}, false, "long", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, g := nomadFormat, func(p Profile) Grant { return p.Nomad }
			if tc.consul {
				f, g = consulFormat, func(p Profile) Grant { return p.Consul }
			}
			c, old := match(tc.tok, f, g, profiles, now, time.Minute)
			if c.Profile.Name != tc.want || old != tc.wantAge {
				t.Errorf("match = %q, old enough %v; want %q, %v", c.Profile.Name, old, tc.want, tc.wantAge)
			}
		})
	}
}

// A label that fits two profiles waits for the larger max TTL of both.
func TestAmbiguousUsesLargestMaxTTL(t *testing.T) {
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	profiles := []Profile{
		{Name: "ci", MaxTTL: 9 * time.Hour, Nomad: Grant{Mount: "nomad", Policies: []string{"p"}}},
		{Name: "ci-admins", MaxTTL: time.Hour, Nomad: Grant{Mount: "nomad", Policies: []string{"p"}}},
	}
	tok := token{Label: "vault-ci-admins-jwt-bob-" + strconv.FormatInt(created.UnixNano(), 10), Created: created, Client: true, Policies: []string{"p"}}
	g := func(p Profile) Grant { return p.Nomad }
	if c, old := match(tok, nomadFormat, g, profiles, created.Add(5*time.Hour), time.Minute); c.Profile.Name != "ci-admins" || old {
		t.Errorf("after 5h: %q, old %v; want ci-admins, not old enough (ci's 9h)", c.Profile.Name, old)
	}
	if _, old := match(tok, nomadFormat, g, profiles, created.Add(10*time.Hour), time.Minute); !old {
		t.Error("after 10h: not old enough")
	}
}
