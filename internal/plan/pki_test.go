package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
)

// pkiConfig is a configuration with a PKI mount and profiles.
func pkiConfig(profiles ...policy.Profile) *policy.Config {
	return &policy.Config{
		SSO:      policy.SSO{ClientID: "c", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault:    policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul", PKIMount: "pki"},
		Profiles: profiles,
	}
}

func TestPKIRoleDesired(t *testing.T) {
	cfg := pkiConfig(
		policy.Profile{Name: "with", Roles: []string{"r"}, TTL: time.Hour, MaxTTL: 2 * time.Hour, ClientCert: policy.ClientCert{TTL: 30 * time.Minute}},
		policy.Profile{Name: "without", Roles: []string{"r"}, TTL: time.Hour, MaxTTL: 2 * time.Hour},
	)
	var pki []Object
	texts := map[string]Object{}
	for _, o := range Desired(cfg) {
		switch o.Kind {
		case PKIRole:
			pki = append(pki, o)
		case VaultPolicy:
			texts[o.Name] = o
		}
	}
	if len(pki) != 1 || pki[0].Name != "with" || pki[0].Mount != "pki" {
		t.Fatalf("pki roles %+v; want one for profile with, on pki", pki)
	}
	f := pki[0].Fields
	if f["ttl"] != int64(1800) || f["max_ttl"] != int64(1800) || f["client_flag"] != true || f["server_flag"] != false ||
		!slices.Equal(f["allowed_domains"].([]string), []string{"{{identity.entity.aliases.<jwt auth accessor>.name}}"}) {
		t.Errorf("fields %v", f)
	}
	for _, name := range PKIRoleFieldNames {
		if _, ok := f[name]; !ok {
			t.Errorf("field %s not written", name)
		}
	}
	with := texts["alilogin-profile-with"]
	if p := with.Fields["policy"].(string); !strings.Contains(p, `path "pki/sign/with"`) || !strings.Contains(p, `path "pki/revoke-with-key"`) {
		t.Errorf("policy of with:\n%s", p)
	}
	if !slices.Contains(with.Fields["roles"].([]string), "pki@pki") {
		t.Errorf("roles of with: %v", with.Fields["roles"])
	}
	without := texts["alilogin-profile-without"]
	if strings.Contains(without.Fields["policy"].(string), "pki") || slices.Contains(without.Fields["roles"].([]string), "pki@pki") {
		t.Errorf("profile without certificates: %v", without.Fields)
	}
	// The record of a live policy names the pki role, which then is the broker's.
	text := VaultPolicyText("alilogin-profile-with", with.Fields)
	own := VaultPolicyOwner("alilogin-profile-with", text, cfg.Vault)
	if !RoleOwned(map[string][]string{"with": own.Roles}, cfg.Vault, PKIRole, "with") {
		t.Errorf("pki role not owned through %q", strings.SplitN(text, "\n", 2)[0])
	}
	if RoleOwned(map[string][]string{"with": own.Roles}, cfg.Vault, PKIRole, "without") {
		t.Errorf("pki role of another profile owned")
	}
}

// TestPKIRoleOwner: Owner judges PKI roles like the other roles: the one
// the live profile policy records is read and the broker's; one no
// record lists is kept only as a conflict, without its fields.
func TestPKIRoleOwner(t *testing.T) {
	cfg := pkiConfig(
		policy.Profile{Name: "with", Roles: []string{"r"}, TTL: time.Hour, MaxTTL: 2 * time.Hour, ClientCert: policy.ClientCert{TTL: 30 * time.Minute}},
		policy.Profile{Name: "hand", Roles: []string{"r"}, TTL: time.Hour, MaxTTL: 2 * time.Hour, ClientCert: policy.ClientCert{TTL: 30 * time.Minute}},
	)
	desired := Desired(cfg)
	o := NewOwner(cfg.Vault, desired)
	for _, d := range desired {
		if d.Kind == VaultPolicy && d.Name == "alilogin-profile-with" {
			o.VaultPolicy(d.Name, VaultPolicyText(d.Name, d.Fields))
		}
	}
	if !o.RoleRecorded(PKIRole, "with") || o.RoleRecorded(PKIRole, "hand") {
		t.Fatalf("RoleRecorded: with %v, hand %v; want only the recorded one", o.RoleRecorded(PKIRole, "with"), o.RoleRecorded(PKIRole, "hand"))
	}
	got, keep := o.Role(Object{Kind: PKIRole, Name: "with", Mount: "pki", Fields: PKIRoleFields(cfg.Profiles[0])})
	if !keep || !got.Managed {
		t.Errorf("recorded pki role: kept %v, managed %v", keep, got.Managed)
	}
	hand, keep := o.UnrecordedRole(PKIRole, "hand")
	if !keep || hand.Managed || hand.Fields != nil || hand.Mount != "pki" {
		t.Errorf("unrecorded pki role of a desired name: %+v, kept %v; want a conflict without fields", hand, keep)
	}
	if _, keep := o.UnrecordedRole(PKIRole, "nobody"); keep {
		t.Errorf("an unrecorded pki role no profile asks for is kept")
	}
}
