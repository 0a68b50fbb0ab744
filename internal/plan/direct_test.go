package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/policy"
)

// aliceDirect is alice() with direct login on for profile ci.
func aliceDirect() *policy.Config {
	cfg := alice()
	cfg.DirectLogin.Enabled = true
	cfg.Profiles[0].DirectLogin = policy.DirectFallback
	cfg.Profiles[1].DirectLogin = policy.DirectOff
	return cfg
}

func TestDesiredDirectLogin(t *testing.T) {
	got := map[Key]Fields{}
	for _, o := range Desired(aliceDirect()) {
		switch o.Kind {
		case NomadAuthMethod, NomadBindingRule, ConsulAuthMethod, ConsulACLRole, ConsulBindingRule:
			got[o.Key()] = o.Fields
		}
	}
	sel := `"b" in list.roles or "a" in list.roles`
	want := map[Key]Fields{
		{NomadAuthMethod, "alilogin-ci"}: {"type": "JWT", "token_locality": "local", "max_token_ttl": int64(3600), "default": false,
			"oidc_discovery_url": "https://sso/", "bound_issuer": []string{"https://sso/"}, "bound_audiences": []string{"cli"},
			"claim_mappings": map[string][]string{"cern_upn": {"user"}}, "list_claim_mappings": map[string][]string{"cern_roles": {"roles"}},
			"jwks_url": "", "jwt_validation_pub_keys": []string{}, "discovery_ca_pem": []string{}, "signing_algs": []string{},
			"expiration_leeway": int64(0), "not_before_leeway": int64(0), "clock_skew_leeway": int64(0)},
		{NomadBindingRule, "alilogin-ci/n"}: {"auth_method": "alilogin-ci", "selector": sel, "bind_type": "policy", "bind_name": "n"},
		{ConsulAuthMethod, "alilogin-ci"}: {"type": "jwt", "token_locality": "local", "max_token_ttl": int64(3600),
			"oidc_discovery_url": "https://sso/", "bound_issuer": "https://sso/", "bound_audiences": []string{"cli"},
			"claim_mappings": map[string][]string{"cern_upn": {"user"}}, "list_claim_mappings": map[string][]string{"cern_roles": {"roles"}},
			"jwks_url": "", "jwt_validation_pub_keys": []string{}, "oidc_discovery_ca_cert": "", "jwt_supported_algs": []string{},
			"expiration_leeway": int64(0), "not_before_leeway": int64(0), "clock_skew_leeway": int64(0)},
		{ConsulACLRole, "alilogin-direct-ci"}:                 {"policies": []string{"c"}, "service_identities": []string{}, "node_identities": []string{}},
		{ConsulBindingRule, "alilogin-ci/alilogin-direct-ci"}: {"auth_method": "alilogin-ci", "selector": sel, "bind_type": "role", "bind_name": "alilogin-direct-ci"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("direct login objects (-want +got):\n%s", d)
	}
	for _, o := range Desired(alice()) {
		if strings.Contains(string(o.Kind), "auth method") || strings.Contains(string(o.Kind), "binding rule") || o.Kind == ConsulACLRole {
			t.Errorf("without direct login: %s", o.Key())
		}
	}
}

// TestAuthMethodOwnership: whose each auth method and binding rule is.
func TestAuthMethodOwnership(t *testing.T) {
	desired := Desired(aliceDirect())
	fields := func(k Key) Fields {
		for _, d := range desired {
			if d.Key() == k {
				return d.Fields
			}
		}
		t.Fatalf("no desired %s", k)
		return nil
	}
	nomadM := fields(Key{NomadAuthMethod, "alilogin-ci"})
	rule := func(id, method, desc string) LiveRule {
		return LiveRule{ID: id, Method: method, Description: desc, Fields: BindingRuleFields(method, "x", "policy", "n")}
	}
	ours := DirectDescription(NomadBindingRule, "alilogin-ci/n")
	changed := with(nomadM, Fields{"max_token_ttl": int64(60)})
	for _, tc := range []struct {
		name      string
		kind      Kind
		methods   []LiveMethod
		rules     []LiveRule
		managed   []string // keys of the managed live objects
		kept      []string // keys of unmanaged live objects kept (a conflict in Diff)
		conflicts []string
	}{
		{name: "nomad method with the broker's rule", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: changed}}, rules: []LiveRule{rule("1", "alilogin-ci", ours)},
			managed: []string{`nomad acl auth method "alilogin-ci"`, `nomad acl binding rule "alilogin-ci/n"`}},
		{name: "nomad method without rules, as the files ask (an apply cut short)", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}},
			managed: []string{`nomad acl auth method "alilogin-ci"`}},
		{name: "hand-made nomad method of the name", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: changed}},
			kept:    []string{`nomad acl auth method "alilogin-ci"`}},
		{name: "hand-made nomad method with a hand-made rule", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}}, rules: []LiveRule{rule("1", "alilogin-ci", "mine")},
			kept: []string{`nomad acl auth method "alilogin-ci"`}},
		{name: "hand-made rule inside the broker's method", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}}, rules: []LiveRule{rule("1", "alilogin-ci", ours), rule("2", "alilogin-ci", "admins get more")},
			managed:   []string{`nomad acl auth method "alilogin-ci"`, `nomad acl binding rule "alilogin-ci/n"`},
			conflicts: []string{`nomad acl binding rule "alilogin-ci/id 2"`}},
		{name: "the broker's marker copied into another method's rule", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}, {Name: "alilogin-other", Fields: nomadM}},
			rules:   []LiveRule{rule("1", "alilogin-ci", ours), rule("2", "alilogin-other", ours)},
			managed: []string{`nomad acl auth method "alilogin-ci"`, `nomad acl binding rule "alilogin-ci/n"`}},
		{name: "two rules with one marker", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}}, rules: []LiveRule{rule("1", "alilogin-ci", ours), rule("2", "alilogin-ci", ours)},
			managed:   []string{`nomad acl auth method "alilogin-ci"`, `nomad acl binding rule "alilogin-ci/n"`},
			conflicts: []string{`nomad acl binding rule "alilogin-ci/n"`}},
		{name: "consul method with its marker", kind: ConsulAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Description: DirectDescription(ConsulAuthMethod, "alilogin-ci")}},
			rules:   []LiveRule{{ID: "1", Method: "alilogin-ci", Description: DirectDescription(ConsulBindingRule, "alilogin-ci/alilogin-direct-ci")}},
			managed: []string{`consul acl auth method "alilogin-ci"`, `consul acl binding rule "alilogin-ci/alilogin-direct-ci"`}},
		{name: "consul method with another method's marker", kind: ConsulAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Description: DirectDescription(ConsulAuthMethod, "alilogin-x")}},
			rules:   []LiveRule{{ID: "1", Method: "alilogin-ci", Description: DirectDescription(ConsulBindingRule, "alilogin-ci/alilogin-direct-ci")}},
			kept:    []string{`consul acl auth method "alilogin-ci"`}},
		{name: "consul: hand-made rule in the broker's method", kind: ConsulAuthMethod,
			methods:   []LiveMethod{{Name: "alilogin-ci", Description: DirectDescription(ConsulAuthMethod, "alilogin-ci")}},
			rules:     []LiveRule{{ID: "9", Method: "alilogin-ci", Description: ""}},
			managed:   []string{`consul acl auth method "alilogin-ci"`},
			conflicts: []string{`consul acl binding rule "alilogin-ci/id 9"`}},
		{name: "an unmanaged method nobody wants is left out", kind: ConsulAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-gone"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOwner(mounts, desired)
			live, conflicts := o.AuthMethods(tc.kind, tc.methods, tc.rules)
			var managed, kept, conf []string
			for _, l := range live {
				if l.Managed {
					managed = append(managed, l.Key().String())
				} else {
					kept = append(kept, l.Key().String())
				}
			}
			for _, c := range conflicts {
				conf = append(conf, Key{c.Kind, c.Name}.String())
			}
			if d := cmp.Diff(tc.managed, managed); d != "" {
				t.Errorf("managed (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.kept, kept); d != "" {
				t.Errorf("kept unmanaged (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.conflicts, conf); d != "" {
				t.Errorf("conflicts (-want +got):\n%s", d)
			}
		})
	}
}

// A hand-made method of a wanted name is a conflict in Diff, never
// updated; the broker's own method no longer wanted is deleted (with
// prune), its rules before it.
func TestDiffAuthMethods(t *testing.T) {
	desired := Desired(aliceDirect())
	p := Diff(desired, []Object{{Kind: NomadAuthMethod, Name: "alilogin-ci"}}, true)
	if len(p.Conflicts) != 1 || p.Conflicts[0].Kind != NomadAuthMethod {
		t.Errorf("conflicts = %v, want the nomad auth method", p.Conflicts)
	}
	for _, c := range p.Changes {
		if c.Kind == NomadAuthMethod {
			t.Errorf("hand-made method changed: %s", c)
		}
	}
	live := []Object{
		{Kind: NomadAuthMethod, Name: "alilogin-gone", Managed: true},
		{Kind: NomadBindingRule, Name: "alilogin-gone/n", ID: "1", Managed: true},
	}
	p = Diff(Desired(alice()), live, true)
	var got []string
	for _, c := range p.Changes {
		if c.Kind == NomadAuthMethod || c.Kind == NomadBindingRule {
			got = append(got, c.String())
		}
	}
	want := []string{`delete nomad acl binding rule "alilogin-gone/n"`, `delete nomad acl auth method "alilogin-gone"`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deletes (-want +got):\n%s", d)
	}
}
