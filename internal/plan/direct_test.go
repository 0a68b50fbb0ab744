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
		{name: "consul: hand-made rule naming the broker's method in another case", kind: ConsulAuthMethod,
			methods:   []LiveMethod{{Name: "alilogin-ci", Description: DirectDescription(ConsulAuthMethod, "alilogin-ci")}},
			rules:     []LiveRule{{ID: "9", Method: "ALILOGIN-Ci", Description: "by hand"}},
			managed:   []string{`consul acl auth method "alilogin-ci"`},
			conflicts: []string{`consul acl binding rule "alilogin-ci/id 9"`}},
		{name: "nomad: a rule naming the method in another case is not in it", kind: NomadAuthMethod,
			methods: []LiveMethod{{Name: "alilogin-ci", Fields: nomadM}}, rules: []LiveRule{rule("1", "alilogin-ci", ours), rule("2", "ALILOGIN-CI", "by hand")},
			managed: []string{`nomad acl auth method "alilogin-ci"`, `nomad acl binding rule "alilogin-ci/n"`}},
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

// TestRuleNoLongerAskedForInStayingMethodIsDeletedWithoutPrune: a
// binding rule the broker made inside an auth method the files still ask
// for, which they no longer ask for (a Nomad policy taken out of the
// profile), is deleted by apply without --prune, as an update narrows a
// Vault role at once; the mass-delete guard does not count it (apply does
// it with or without --prune). A rule of a method no longer asked for
// waits for --prune with its method.
func TestRuleNoLongerAskedForInStayingMethodIsDeletedWithoutPrune(t *testing.T) {
	var live []Object
	for _, o := range Desired(aliceDirect()) {
		o.Managed = true
		live = append(live, o)
	}
	live = append(live,
		Object{Kind: NomadBindingRule, Name: "alilogin-ci/taken-out", ID: "7", Managed: true},
		Object{Kind: ConsulBindingRule, Name: "alilogin-ci/alilogin-direct-old", ID: "8", Managed: true},
		Object{Kind: NomadAuthMethod, Name: "alilogin-gone", Managed: true},
		Object{Kind: NomadBindingRule, Name: "alilogin-gone/n", ID: "9", Managed: true})
	p := Diff(Desired(aliceDirect()), live, false)
	todo, skipped := p.ToDo(false)
	names := func(cs []Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.String())
		}
		return out
	}
	wantTodo := []string{`delete nomad acl binding rule "alilogin-ci/taken-out"`, `delete consul acl binding rule "alilogin-ci/alilogin-direct-old"`}
	if d := cmp.Diff(wantTodo, names(todo)); d != "" {
		t.Errorf("carried out without --prune (-want +got):\n%s", d)
	}
	wantSkipped := []string{`delete nomad acl binding rule "alilogin-gone/n"`, `delete nomad acl auth method "alilogin-gone"`}
	if d := cmp.Diff(wantSkipped, names(skipped)); d != "" {
		t.Errorf("kept until --prune (-want +got):\n%s", d)
	}
	if g := p.Guard(); g.Deletes != 2 {
		t.Errorf("guard counts %d deletes, want the 2 that need --prune: %s", g.Deletes, g)
	}
	var out strings.Builder
	Write(&out, p, false)
	for _, want := range []string{
		`- nomad acl binding rule "alilogin-ci/taken-out"  (no longer asked for in an auth method that stays: deleted even without --prune)`,
		`- nomad acl binding rule "alilogin-gone/n"  (kept: deletes need --prune)`,
		"Deletes are carried out only with --prune",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("plan does not say %q:\n%s", want, out.String())
		}
	}
}
