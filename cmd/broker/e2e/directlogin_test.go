package e2e

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
)

// resetDirect deletes every auth method and binding rule in Nomad and
// Consul, and every Consul ACL role.
func resetDirect(t *testing.T) {
	t.Helper()
	var nr []struct{ ID string }
	mustDo(t, nomadC, "GET", "/v1/acl/binding-rules", nil, &nr)
	for _, r := range nr {
		mustDo(t, nomadC, "DELETE", "/v1/acl/binding-rule/"+r.ID, nil, nil)
	}
	var nm []struct{ Name string }
	mustDo(t, nomadC, "GET", "/v1/acl/auth-methods", nil, &nm)
	for _, m := range nm {
		mustDo(t, nomadC, "DELETE", "/v1/acl/auth-method/"+url.PathEscape(m.Name), nil, nil)
	}
	var cm []struct{ Name string }
	mustDo(t, consulC, "GET", "/v1/acl/auth-methods", nil, &cm)
	for _, m := range cm {
		mustDo(t, consulC, "DELETE", "/v1/acl/auth-method/"+url.PathEscape(m.Name), nil, nil)
	}
	var cr []struct{ ID string }
	mustDo(t, consulC, "GET", "/v1/acl/roles", nil, &cr)
	for _, r := range cr {
		mustDo(t, consulC, "DELETE", "/v1/acl/role/"+r.ID, nil, nil)
	}
}

// directPolicies is the ALICE example with direct login turned on in
// broker.hcl (every profile: the default, fallback).
func directPolicies(t *testing.T, edits map[string]string) string {
	t.Helper()
	dir := policiesDir(t, edits)
	if err := teststack.EnableDirectLogin(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appliedDirectPolicies starts from no auth methods, binding rules or
// Consul roles (and leaves none behind), and applies directPolicies
// without edits; it returns the policies folder.
func appliedDirectPolicies(t *testing.T) string {
	t.Helper()
	setup(t)
	resetDirect(t)
	t.Cleanup(func() { resetDirect(t) })
	dir := directPolicies(t, nil)
	mustApply(t, dir)
	return dir
}

// idToken signs user in at Hydra with client id and returns the ID token.
func idToken(t *testing.T, clientID, user string) string {
	t.Helper()
	for _, u := range users {
		if u.Username == user {
			tok, err := stack.Hydra.Login(context.Background(), clientID, u.Username, u.Password)
			if err != nil {
				t.Fatal(err)
			}
			return tok.IDToken
		}
	}
	t.Fatalf("no test user %q", user)
	return ""
}

type directToken struct {
	SecretID       string
	Policies       []string
	Roles          []struct{ Name string }
	ExpirationTime *time.Time
}

// nomadLogin logs in at Nomad's auth method with jwt.
func nomadLogin(method, jwt string) (directToken, error) {
	var tok directToken
	err := nomadC.Do(context.Background(), "POST", "/v1/acl/login", map[string]string{"AuthMethodName": method, "LoginToken": jwt}, &tok)
	return tok, err
}

// consulLogin logs in at Consul's auth method with jwt.
func consulLogin(method, jwt string) (directToken, error) {
	var tok directToken
	err := consulC.Do(context.Background(), "POST", "/v1/acl/login", map[string]string{"AuthMethod": method, "BearerToken": jwt}, &tok)
	return tok, err
}

// TestDirectLoginMethodsAcceptTheProfilesUsers: with direct login on,
// broker plan shows each profile's Nomad and Consul auth methods, the
// Consul role and the binding rules; apply makes them, and then the
// real Nomad and Consul accept a Hydra ID token of a user with the
// profile's role at /v1/acl/login, giving a token with exactly the
// profile's policies and an expiry of the profile's ttl, which the
// server takes; the next plan has nothing to do.
func TestDirectLoginMethodsAcceptTheProfilesUsers(t *testing.T) {
	setup(t)
	dir := directPolicies(t, nil)
	code, out, _ := broker(t, "plan", "--detailed-exitcode", dir)
	if code != exitChanges {
		t.Fatalf("plan: exit %d, want %d", code, exitChanges)
	}
	for _, want := range []string{
		`+ nomad acl auth method "alilogin-ci-user"`,
		`+ nomad acl binding rule "alilogin-ci-admin/ci-submit-jobs"`,
		`+ nomad acl binding rule "alilogin-ci-user/ci-read-jobs"`,
		`+ consul acl auth method "alilogin-build-operator"`,
		`+ consul acl role "alilogin-direct-ci-admin"`,
		`+ consul acl binding rule "alilogin-ci-user/alilogin-direct-ci-user"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not show %s", want)
		}
	}
	mustApply(t, dir)
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Fatalf("plan after apply: exit %d, want no changes", code)
	}

	jwt := idToken(t, stack.Hydra.ClientID, "alice") // alice-ci-users
	before := time.Now()
	nt, err := nomadLogin("alilogin-ci-user", jwt)
	if err != nil {
		t.Fatalf("Nomad refused alice's ID token at alilogin-ci-user: %v", err)
	}
	if !slices.Equal(nt.Policies, []string{"ci-read-jobs"}) {
		t.Errorf("Nomad token policies %v, want [ci-read-jobs]", nt.Policies)
	}
	checkExpiry(t, "Nomad", nt.ExpirationTime, before, time.Hour)
	var self struct{ Policies []string }
	if err := nomadC.WithToken(secret.New(nt.SecretID)).Do(context.Background(), "GET", "/v1/acl/token/self", nil, &self); err != nil {
		t.Errorf("Nomad does not accept its own direct-login token: %v", err)
	}

	ct, err := consulLogin("alilogin-ci-user", jwt)
	if err != nil {
		t.Fatalf("Consul refused alice's ID token at alilogin-ci-user: %v", err)
	}
	if len(ct.Roles) != 1 || ct.Roles[0].Name != "alilogin-direct-ci-user" {
		t.Errorf("Consul token roles %v, want [alilogin-direct-ci-user]", ct.Roles)
	}
	checkExpiry(t, "Consul", ct.ExpirationTime, before, time.Hour)
	var role struct{ Policies []struct{ Name string } }
	mustDo(t, consulC, "GET", "/v1/acl/role/name/alilogin-direct-ci-user", nil, &role)
	if len(role.Policies) != 1 || role.Policies[0].Name != "catalog-kv-read" {
		t.Errorf("Consul role alilogin-direct-ci-user holds %v, want [catalog-kv-read]", role.Policies)
	}
	if err := consulC.WithToken(secret.New(ct.SecretID)).Do(context.Background(), "GET", "/v1/acl/token/self", nil, nil); err != nil {
		t.Errorf("Consul does not accept its own direct-login token: %v", err)
	}
}

// TestDirectLoginRefusesOthers: the binding rules refuse a user without
// the profile's role (alice at ci-admin, eve anywhere), and Nomad and
// Consul refuse an ID token for another audience (a second Hydra client)
// and one from another issuer (an OpenID provider of the test's, with the
// same claims).
func TestDirectLoginRefusesOthers(t *testing.T) {
	setup(t)
	dir := directPolicies(t, nil)
	mustApply(t, dir)
	ctx := context.Background()
	other, err := stack.Hydra.NewClient(ctx, teststack.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	foreign := hostile.NewOIDCProvider(hostile.OIDCOptions{ClientID: stack.Hydra.ClientID,
		Claims: map[string]any{"cern_upn": "carol", "cern_roles": []string{"alice-ci-admins", "alice-ci-users"}}})
	t.Cleanup(foreign.Close)
	for _, tc := range []struct {
		name, method, jwt string
	}{
		{"alice lacks alice-ci-admins", "alilogin-ci-admin", idToken(t, stack.Hydra.ClientID, "alice")},
		{"eve has no role of ci-user", "alilogin-ci-user", idToken(t, stack.Hydra.ClientID, "eve")},
		{"another audience", "alilogin-ci-admin", idToken(t, other, "carol")},
		{"another issuer", "alilogin-ci-admin", foreign.IDToken("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := nomadLogin(tc.method, tc.jwt); err == nil {
				t.Errorf("Nomad gave a token with policies %v", tok.Policies)
			} else if s := apiclient.StatusOf(err); s != 400 && s != 401 && s != 403 {
				t.Errorf("Nomad: %v, want a refusal", err)
			}
			// Consul 1.16 answers a refused ID token with a 500.
			if tok, err := consulLogin(tc.method, tc.jwt); err == nil {
				t.Errorf("Consul gave a token with roles %v", tok.Roles)
			} else if apiclient.StatusOf(err) == 0 {
				t.Errorf("Consul: %v, want a refusal", err)
			}
		})
	}
	// carol, who holds the role, gets in with the same methods.
	jwt := idToken(t, stack.Hydra.ClientID, "carol")
	if _, err := nomadLogin("alilogin-ci-admin", jwt); err != nil {
		t.Errorf("Nomad refused carol: %v", err)
	}
	if _, err := consulLogin("alilogin-ci-admin", jwt); err != nil {
		t.Errorf("Consul refused carol: %v", err)
	}
}

func checkExpiry(t *testing.T, server string, exp *time.Time, before time.Time, ttl time.Duration) {
	t.Helper()
	if exp == nil {
		t.Errorf("%s token has no expiry", server)
		return
	}
	if exp.Before(before.Add(ttl-time.Minute)) || exp.After(time.Now().Add(ttl+time.Minute)) {
		t.Errorf("%s token expires at %s, want about %s after %s", server, exp, ttl, before)
	}
}

// TestHandMadeAuthMethodsAndRulesAreConflicts: a hand-made Nomad or
// Consul auth method of a profile's name, a hand-made Consul role of the
// direct role's name, and a hand-made binding rule inside a method the
// broker made are conflicts: plan and apply say so, apply writes
// nothing, and apply --prune deletes none of them.
func TestHandMadeAuthMethodsAndRulesAreConflicts(t *testing.T) {
	setup(t)
	dir := directPolicies(t, nil)
	ctx := context.Background()
	// By hand: a Nomad method alilogin-ci-user that trusts the same SSO
	// but maps the token's roles to management.
	hand := map[string]any{"Name": "alilogin-ci-user", "Type": "JWT", "TokenLocality": "local", "MaxTokenTTL": "2h0m0s",
		"Config": map[string]any{"OIDCDiscoveryURL": stack.Hydra.IssuerURL, "BoundAudiences": []string{stack.Hydra.ClientID},
			"ListClaimMappings": map[string]string{"cern_roles": "roles"}}}
	mustDo(t, nomadC, "POST", "/v1/acl/auth-method", hand, nil)
	mustDo(t, consulC, "PUT", "/v1/acl/auth-method", map[string]any{"Name": "alilogin-ci-user", "Type": "jwt", "Description": "by hand", "MaxTokenTTL": "2h0m0s",
		"TokenLocality": "local", "Config": map[string]any{"OIDCDiscoveryURL": stack.Hydra.IssuerURL, "BoundAudiences": []string{stack.Hydra.ClientID}}}, nil)
	mustDo(t, consulC, "PUT", "/v1/acl/role", map[string]any{"Name": "alilogin-direct-ci-admin", "Description": "by hand"}, nil)

	code, out, _ := broker(t, "plan", dir)
	if code != exitError {
		t.Errorf("plan with conflicts: exit %d, want %d", code, exitError)
	}
	for _, want := range []string{
		`! conflict: nomad acl auth method "alilogin-ci-user"`,
		`! conflict: consul acl auth method "alilogin-ci-user"`,
		`! conflict: consul acl role "alilogin-direct-ci-admin"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not say %s", want)
		}
	}
	if code, _, stderr := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitError || !strings.Contains(stderr, "name conflict") {
		t.Errorf("apply with conflicts: exit %d, stderr %s", code, stderr)
	}
	var nm struct{ MaxTokenTTL string }
	mustDo(t, nomadC, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, &nm)
	var cm struct{ Description string }
	mustDo(t, consulC, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, &cm)
	if nm.MaxTokenTTL != "2h0m0s" || cm.Description != "by hand" {
		t.Errorf("hand-made methods changed: Nomad TTL %s, Consul description %q", nm.MaxTokenTTL, cm.Description)
	}
	var nrules []struct{ ID string }
	mustDo(t, nomadC, "GET", "/v1/acl/binding-rules", nil, &nrules)
	if len(nrules) != 0 {
		t.Errorf("apply with conflicts wrote %d Nomad binding rules", len(nrules))
	}

	// Without the hand-made objects, apply makes the broker's; then a
	// hand-made rule inside the broker's method is a conflict, and
	// prune (the profile's direct login turned off) leaves it, and the
	// method, alone.
	resetDirect(t)
	mustApply(t, dir)
	var extra struct{ ID string }
	mustDo(t, nomadC, "POST", "/v1/acl/binding-rule", map[string]string{"AuthMethod": "alilogin-ci-user", "BindType": "management", "Selector": `"alice-ci-users" in list.roles`}, &extra)
	var cextra struct{ ID string }
	mustDo(t, consulC, "PUT", "/v1/acl/binding-rule", map[string]string{"AuthMethod": "alilogin-ci-user", "BindType": "role", "BindName": "admins", "Description": "by hand"}, &cextra)
	code, out, _ = broker(t, "plan", dir)
	if code != exitError || !strings.Contains(out, `! conflict: nomad acl binding rule "alilogin-ci-user/id `+extra.ID+`"`) ||
		!strings.Contains(out, `! conflict: consul acl binding rule "alilogin-ci-user/id `+cextra.ID+`"`) {
		t.Errorf("plan with hand-made rules in managed methods: exit %d", code)
	}
	off := strings.Replace(readFile(t, dir+"/profiles.hcl"), `profile "ci-user" {`, "profile \"ci-user\" {\n  direct_login = \"off\"", 1)
	writeFile(t, dir+"/profiles.hcl", off)
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitError {
		t.Errorf("apply --prune with a hand-made rule in a managed method: exit %d, want %d", code, exitError)
	}
	if err := nomadC.Do(ctx, "GET", "/v1/acl/binding-rule/"+extra.ID, nil, nil); err != nil {
		t.Errorf("the hand-made Nomad rule is gone: %v", err)
	}
	if err := consulC.Do(ctx, "GET", "/v1/acl/binding-rule/"+cextra.ID, nil, nil); err != nil {
		t.Errorf("the hand-made Consul rule is gone: %v", err)
	}
	if err := nomadC.Do(ctx, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, nil); err != nil {
		t.Errorf("the method holding a hand-made rule was deleted: %v", err)
	}
}

// TestDirectLoginTurnedOffIsPrunedOnlyWithPrune: a profile whose direct
// login is turned off keeps its methods, role and rules until apply
// --prune, which deletes them all.
func TestDirectLoginTurnedOffIsPrunedOnlyWithPrune(t *testing.T) {
	setup(t)
	dir := directPolicies(t, nil)
	mustApply(t, dir)
	off := strings.Replace(readFile(t, dir+"/profiles.hcl"), `profile "ci-user" {`, "profile \"ci-user\" {\n  direct_login = \"off\"", 1)
	writeFile(t, dir+"/profiles.hcl", off)
	code, out, _ := broker(t, "plan", dir)
	for _, want := range []string{
		`- nomad acl auth method "alilogin-ci-user"  (kept: deletes need --prune)`,
		`- nomad acl binding rule "alilogin-ci-user/ci-read-jobs"`,
		`- consul acl auth method "alilogin-ci-user"`,
		`- consul acl role "alilogin-direct-ci-user"`,
		`- consul acl binding rule "alilogin-ci-user/alilogin-direct-ci-user"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan (exit %d) does not show %s", code, want)
		}
	}
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply without prune: exit %d", code)
	}
	ctx := context.Background()
	if err := nomadC.Do(ctx, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, nil); err != nil {
		t.Errorf("apply without prune deleted the Nomad method: %v", err)
	}
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitOK {
		t.Fatalf("apply --prune: exit %d", code)
	}
	if err := nomadC.Do(ctx, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("Nomad method after prune: %v, want 404", err)
	}
	if err := consulC.Do(ctx, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("Consul method after prune: %v, want 404", err)
	}
	if err := consulC.Do(ctx, "GET", "/v1/acl/role/name/alilogin-direct-ci-user", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("Consul role after prune: %v, want 404", err)
	}
	if err := nomadC.Do(ctx, "GET", "/v1/acl/auth-method/alilogin-ci-admin", nil, nil); err != nil {
		t.Errorf("prune deleted another profile's method: %v", err)
	}
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after prune: exit %d, want no changes", code)
	}
}

// TestDirectLoginDriftIsRepaired: a hand edit that widens a managed
// method (a longer token TTL, another audience), the Consul role (another
// policy) or a binding rule (a selector that matches everyone) is drift:
// plan shows it, apply puts the files' settings back, and the next plan is
// empty.
func TestDirectLoginDriftIsRepaired(t *testing.T) {
	setup(t)
	dir := directPolicies(t, nil)
	mustApply(t, dir)
	var nm map[string]any
	mustDo(t, nomadC, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, &nm)
	nm["MaxTokenTTL"] = "20h0m0s"
	nm["Config"].(map[string]any)["BoundAudiences"] = []string{stack.Hydra.ClientID, "another-client"}
	mustDo(t, nomadC, "POST", "/v1/acl/auth-method/alilogin-ci-user", nm, nil)
	var cm map[string]any
	mustDo(t, consulC, "GET", "/v1/acl/auth-method/alilogin-ci-user", nil, &cm)
	cm["Config"].(map[string]any)["BoundAudiences"] = []string{stack.Hydra.ClientID, "another-client"}
	cm["Config"].(map[string]any)["ExpirationLeeway"] = int64(time.Hour) // nanoseconds, as Consul reads it
	mustDo(t, consulC, "PUT", "/v1/acl/auth-method/alilogin-ci-user", cm, nil)
	var role map[string]any
	mustDo(t, consulC, "GET", "/v1/acl/role/name/alilogin-direct-ci-user", nil, &role)
	role["Policies"] = append(role["Policies"].([]any), map[string]string{"Name": "ci-service-kv-write"})
	mustDo(t, consulC, "PUT", "/v1/acl/role/"+role["ID"].(string), role, nil)
	var rules []map[string]any
	mustDo(t, nomadC, "GET", "/v1/acl/binding-rules", nil, &rules)
	for _, r := range rules {
		if r["AuthMethod"] == "alilogin-ci-user" {
			var full map[string]any
			mustDo(t, nomadC, "GET", "/v1/acl/binding-rule/"+r["ID"].(string), nil, &full)
			full["Selector"] = ""
			mustDo(t, nomadC, "POST", "/v1/acl/binding-rule/"+r["ID"].(string), full, nil)
		}
	}

	code, out, _ := broker(t, "plan", "--detailed-exitcode", dir)
	if code != exitChanges {
		t.Fatalf("plan after hand edits: exit %d, want %d", code, exitChanges)
	}
	for _, want := range []string{
		`~ nomad acl auth method "alilogin-ci-user"`, "max_token_ttl", "bound_audiences", `~ consul acl auth method "alilogin-ci-user"`, "expiration_leeway",
		`~ consul acl role "alilogin-direct-ci-user"`, `~ nomad acl binding rule "alilogin-ci-user/ci-read-jobs"`, "selector",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not show %s", want)
		}
	}
	mustApply(t, dir)
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after repair: exit %d, want no changes", code)
	}
	// eve, with no role of ci-user, is refused again.
	if tok, err := nomadLogin("alilogin-ci-user", idToken(t, stack.Hydra.ClientID, "eve")); err == nil {
		t.Errorf("after repair, Nomad gave eve a token with %v", tok.Policies)
	}
}
