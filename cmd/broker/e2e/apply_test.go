package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// granted is what one login yields in the three systems.
type granted struct {
	TokenPolicies    []string
	IdentityPolicies []string
	Nomad            []string
	Consul           []string
}

// loginAs logs user in with a real ID token from Hydra and JWT role
// profile, mints Nomad and Consul tokens, and reports their policies.
func loginAs(t *testing.T, username, profile string) (granted, error) {
	t.Helper()
	ctx := context.Background()
	idToken := ssoIDToken(t, ctx, username)
	v := vaultC.WithToken(secret.String{})
	var out struct {
		Auth struct {
			ClientToken      string   `json:"client_token"`
			TokenPolicies    []string `json:"token_policies"`
			IdentityPolicies []string `json:"identity_policies"`
		} `json:"auth"`
	}
	if err := v.Do(ctx, "POST", "/v1/auth/jwt/login", map[string]any{"role": profile, "jwt": idToken}, &out); err != nil {
		return granted{}, err
	}
	g := granted{TokenPolicies: sortedCopy(out.Auth.TokenPolicies), IdentityPolicies: sortedCopy(out.Auth.IdentityPolicies)}
	user := v.WithToken(secret.New(out.Auth.ClientToken))
	creds := func(path string) secret.String {
		var c struct {
			Data struct {
				SecretID string `json:"secret_id"`
				Token    string `json:"token"`
			} `json:"data"`
		}
		if err := user.Do(ctx, "GET", "/v1/"+path, nil, &c); err != nil {
			t.Fatalf("%s reading %s: %v", username, path, err)
		}
		return secret.New(c.Data.SecretID + c.Data.Token)
	}
	var ns struct{ Policies []string }
	mustDo(t, nomadC.WithToken(creds("nomad/creds/"+profile)), "GET", "/v1/acl/token/self", nil, &ns)
	g.Nomad = sortedCopy(ns.Policies)
	var cs struct{ Policies []struct{ Name string } }
	mustDo(t, consulC.WithToken(creds("consul/creds/"+profile)), "GET", "/v1/acl/token/self", nil, &cs)
	for _, p := range cs.Policies {
		g.Consul = append(g.Consul, p.Name)
	}
	g.Consul = sortedCopy(g.Consul)
	return g, nil
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func TestApplyALICEExampleThenLogIn(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	if code, _, _ := broker(t, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit %d", code)
	}
	if code, out, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitChanges || !strings.Contains(out, `+ vault jwt role "ci-admin"`) {
		t.Fatalf("plan --detailed-exitcode before apply: exit %d, want %d and the creates", code, exitChanges)
	}
	if code, out, _ := broker(t, "plan", dir); code != exitOK || !strings.Contains(out, `+ vault jwt role "ci-admin"`) {
		t.Fatalf("plan before apply: exit %d, want %d (changes are reported by the exit code only with --detailed-exitcode) and the creates", code, exitOK)
	}
	mustApply(t, dir)

	none := []string{}
	tests := []struct {
		user, profile string
		want          *granted // nil: the login must be refused
	}{
		{"alice", "ci-user", &granted{[]string{"alilogin-profile-ci-user", "ci-secrets-read", "default"}, none, []string{"ci-read-jobs"}, []string{"catalog-kv-read"}}},
		{"alice", "ci-admin", nil},
		{"alice", "build-operator", nil},
		{"carol", "ci-user", &granted{[]string{"alilogin-profile-ci-user", "ci-secrets-read", "default"}, []string{"ci-secrets-audit"}, []string{"ci-read-jobs"}, []string{"catalog-kv-read"}}},
		{"carol", "ci-admin", &granted{[]string{"alilogin-profile-ci-admin", "ci-secrets-read", "ci-secrets-write", "default"}, []string{"ci-secrets-audit"},
			[]string{"ci-read-jobs", "ci-submit-jobs"}, []string{"catalog-kv-read", "ci-service-kv-write"}}},
		{"dave", "build-operator", &granted{[]string{"alilogin-profile-build-operator", "build-secrets-read", "default"}, none,
			[]string{"build-submit-jobs", "node-read"}, []string{"catalog-kv-read", "services-kv-write"}}},
		{"dave", "ci-user", nil},
		{"eve", "ci-user", nil},
	}
	for _, tc := range tests {
		t.Run(tc.user+"/"+tc.profile, func(t *testing.T) {
			got, err := loginAs(t, tc.user, tc.profile)
			if tc.want == nil {
				if err == nil || apiclient.StatusOf(err) < 400 {
					t.Fatalf("login allowed (%+v, %v); want it refused", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(*tc.want, got); d != "" {
				t.Errorf("granted (-want +got):\n%s", d)
			}
		})
	}

	// The explain command agrees with what the servers granted.
	_, out, _ := broker(t, "explain", dir, "--roles", "alice-ci-admins", "--json")
	var ex struct {
		Profiles []struct {
			Profile       string   `json:"profile"`
			VaultPolicies []string `json:"vault_policies"`
		}
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Profiles) != 2 || ex.Profiles[0].Profile != "ci-admin" || !slices.Contains(ex.Profiles[0].VaultPolicies, "ci-secrets-audit") {
		t.Errorf("explain: %+v", ex.Profiles)
	}

	// Applied: plan is empty and a second apply writes nothing.
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after apply: exit %d, want 0", code)
	}
	assertNoWrites(t, dir)
}

// assertNoWrites checks that an apply of dir makes no write call.
func assertNoWrites(t *testing.T, dir string) {
	t.Helper()
	res := applyDir(t, dir, apply.Options{})
	if n := res.TotalWrites(); n != 0 {
		t.Errorf("no-change apply made %d writes (%v); plan: %+v", n, res.Writes, res.Plan.Changes)
	}
}

// mustApply runs `broker apply --auto-approve dir`; t fails at once
// unless it exits 0.
func mustApply(t *testing.T, dir string) {
	t.Helper()
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d", code)
	}
}

func applyDir(t *testing.T, dir string, opts apply.Options) apply.Result {
	t.Helper()
	res, err := applyErr(t, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func applyErr(t *testing.T, dir string, opts apply.Options) (apply.Result, error) {
	t.Helper()
	cfg, clients := loadWithClients(t, dir)
	return apply.Run(context.Background(), cfg, clients, opts)
}

// loadWithClients reads the policy folder dir and makes the broker's
// clients for it from its environment, as broker apply does; their idle
// connections are closed when the test ends.
func loadWithClients(t *testing.T, dir string) (*policy.Config, apply.Clients) {
	t.Helper()
	cfg, err := policy.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := apply.ClientsFromEnv(brokerEnv(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clients.CloseIdleConnections)
	return cfg, clients
}

type changeKey struct {
	Action plan.Action
	Kind   plan.Kind
	Name   string
}

func planKeys(t *testing.T, dir string, extra ...string) []changeKey {
	t.Helper()
	code, out, _ := broker(t, append([]string{"plan", "--json", "--detailed-exitcode", dir}, extra...)...)
	if code != exitOK && code != exitChanges {
		t.Fatalf("plan: exit %d", code)
	}
	var p plan.JSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --json: %v", err)
	}
	if (code == exitChanges) != (len(p.Changes) > 0) {
		t.Errorf("plan exit %d with %d changes", code, len(p.Changes))
	}
	keys := []changeKey{}
	for _, c := range p.Changes {
		keys = append(keys, changeKey{c.Action, c.Kind, c.Name})
	}
	return keys
}

func TestDriftIsShownAndRepaired(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})

	// By hand: loosen a managed Nomad policy, lengthen a managed JWT role.
	n := nomadC
	var np struct{ Name, Description, Rules string }
	mustDo(t, n, "GET", "/v1/acl/policy/ci-read-jobs", nil, &np)
	np.Rules = `namespace "*" { policy = "write" }`
	mustDo(t, n, "POST", "/v1/acl/policy/ci-read-jobs", np, nil)
	mustDo(t, vaultC, "POST", "/v1/auth/jwt/role/ci-user", map[string]any{"role_type": "jwt", "token_ttl": "240h", "token_max_ttl": "240h"}, nil)

	want := []changeKey{
		{plan.Update, plan.NomadPolicy, "ci-read-jobs"},
		{plan.Update, plan.JWTRole, "ci-user"},
	}
	if d := cmp.Diff(want, planKeys(t, dir)); d != "" {
		t.Fatalf("plan after drift (-want +got):\n%s", d)
	}
	_, out, _ := broker(t, "plan", dir)
	for _, s := range []string{"token_ttl: 864000 -> 3600", `+ namespace "ci" {`, `- namespace "*" { policy = "write" }`} {
		if !strings.Contains(out, s) {
			t.Errorf("plan output lacks %q", s)
		}
	}
	mustApply(t, dir)
	if got := planKeys(t, dir); len(got) != 0 {
		t.Errorf("plan after repair: %v", got)
	}
	mustDo(t, n, "GET", "/v1/acl/policy/ci-read-jobs", nil, &np)
	if strings.Contains(np.Rules, `"*"`) {
		t.Errorf("Nomad policy not restored: %q", np.Rules)
	}
}

// unmanaged seeds one object of each kind the broker must leave alone and
// returns a function that checks they are unchanged.
func seedUnmanaged(t *testing.T) func() {
	t.Helper()
	v, n, c := vaultC, nomadC, consulC
	const vp = `path "secret/legacy/*" { capabilities = ["read"] }`
	mustDo(t, v, "PUT", "/v1/sys/policies/acl/legacy-ops", map[string]any{"policy": vp}, nil)
	mustDo(t, v, "POST", "/v1/auth/jwt/role/legacy", map[string]any{"role_type": "jwt", "bound_audiences": []string{"legacy"},
		"user_claim": "sub", "token_policies": []string{"legacy-ops"}}, nil)
	mustDo(t, v, "POST", "/v1/nomad/role/legacy", map[string]any{"policies": "legacy-ops"}, nil)
	mustDo(t, n, "POST", "/v1/acl/policy/legacy-ops", map[string]any{"Name": "legacy-ops", "Description": "hand-made", "Rules": `node { policy = "read" }`}, nil)
	mustDo(t, c, "PUT", "/v1/acl/policy", map[string]any{"Name": "legacy-ops", "Description": "hand-made", "Rules": `node_prefix "" { policy = "read" }`}, nil)
	return func() {
		t.Helper()
		var pol struct {
			Data struct{ Policy string } `json:"data"`
		}
		mustDo(t, v, "GET", "/v1/sys/policies/acl/legacy-ops", nil, &pol)
		var role struct {
			Data struct {
				TokenPolicies []string `json:"token_policies"`
			} `json:"data"`
		}
		mustDo(t, v, "GET", "/v1/auth/jwt/role/legacy", nil, &role)
		mustDo(t, v, "GET", "/v1/nomad/role/legacy", nil, nil)
		var np struct{ Description, Rules string }
		mustDo(t, n, "GET", "/v1/acl/policy/legacy-ops", nil, &np)
		var cp struct{ Description, Rules string }
		mustDo(t, c, "GET", "/v1/acl/policy/name/legacy-ops", nil, &cp)
		if pol.Data.Policy != vp || !slices.Equal(role.Data.TokenPolicies, []string{"legacy-ops"}) ||
			np.Rules != `node { policy = "read" }` || np.Description != "hand-made" || cp.Description != "hand-made" {
			t.Errorf("unmanaged objects changed: vault %q %v, nomad %+v, consul %+v", pol.Data.Policy, role.Data.TokenPolicies, np, cp)
		}
	}
}

func TestUnmanagedObjectsSurviveApplyAndPrune(t *testing.T) {
	setup(t)
	check := seedUnmanaged(t)
	dir := policiesDir(t, nil)
	mustApply(t, dir)
	check()
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitOK {
		t.Fatalf("apply --prune: exit %d", code)
	}
	check()
	// Even with every profile and policy gone from the files.
	// (A folder must declare a profile: one that grants nothing.)
	empty := policiesDir(t, map[string]string{"profiles.hcl": "profile \"placeholder\" {\n  roles = [\"nobody\"]\n}\n"})
	for _, sys := range []string{"vault", "nomad", "consul"} {
		removeDir(t, empty, sys)
	}
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", "--allow-mass-delete", empty); code != exitOK {
		t.Fatalf("apply --prune of nothing: exit %d", code)
	}
	check()
	if got := planKeys(t, empty); len(got) != 0 {
		t.Errorf("managed objects left after prune: %v", got)
	}
}

func TestRemovedProfileIsPrunedOnlyWithPrune(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})

	profiles := readFile(t, dir+"/profiles.hcl")
	i := strings.Index(profiles, `profile "build-operator"`)
	j := strings.Index(profiles, "# Extra Vault policies")
	writeFile(t, dir+"/profiles.hcl", profiles[:i]+profiles[j:])

	want := []changeKey{
		{plan.Delete, plan.JWTRole, "build-operator"},
		{plan.Delete, plan.NomadRole, "build-operator"},
		{plan.Delete, plan.ConsulRole, "build-operator"},
		{plan.Delete, plan.VaultPolicy, "alilogin-profile-build-operator"},
	}
	if d := cmp.Diff(want, planKeys(t, dir)); d != "" {
		t.Fatalf("plan (-want +got):\n%s", d)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	if code != exitOK || !strings.Contains(stderr, "need --prune") || !strings.Contains(stderr, `vault jwt role "build-operator"`) {
		t.Fatalf("apply without --prune: exit %d, want 0 and a warning naming the kept objects", code)
	}
	mustDo(t, vaultC, "GET", "/v1/auth/jwt/role/build-operator", nil, nil)
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitOK {
		t.Fatalf("apply --prune: exit %d", code)
	}
	if err := vaultC.Do(context.Background(), "GET", "/v1/auth/jwt/role/build-operator", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("JWT role still there after --prune: %v", err)
	}
	if got := planKeys(t, dir); len(got) != 0 {
		t.Errorf("plan after prune: %v", got)
	}
	if _, err := loginAs(t, "dave", "build-operator"); err == nil {
		t.Error("dave still logs in with the removed profile")
	}
}

func TestInterruptedApplyConverges(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	for _, stopAt := range []int{3, 9, 14} { // in phase 1, 2 and 3
		t.Run(fmt.Sprintf("stopped after %d changes", stopAt), func(t *testing.T) {
			reset(t)
			n := 0
			errCrash := errors.New("simulated crash")
			_, err := applyErr(t, dir, apply.Options{Concurrency: 1, BeforeWrite: func(plan.Change) error {
				if n++; n > stopAt {
					return errCrash
				}
				return nil
			}})
			if !errors.Is(err, errCrash) {
				t.Fatalf("interrupted apply: %v", err)
			}
			if got := planKeys(t, dir); len(got) == 0 {
				t.Fatal("nothing left to do after the interruption")
			}
			if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
				t.Fatalf("apply after interruption: exit %d", code)
			}
			if got := planKeys(t, dir); len(got) != 0 {
				t.Errorf("plan after re-apply: %v", got)
			}
			assertNoWrites(t, dir)
		})
	}
	// Ctrl-C in the middle of a concurrent phase.
	t.Run("cancelled", func(t *testing.T) {
		reset(t)
		cfg, clients := loadWithClients(t, dir)
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		res, err := apply.Run(ctx, cfg, clients, apply.Options{BeforeWrite: func(plan.Change) error {
			if n++; n == 12 {
				cancel()
			}
			return nil
		}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled apply: %v", err)
		}
		t.Logf("cancelled after %d writes", res.TotalWrites())
		if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
			t.Fatalf("apply after cancel: exit %d", code)
		}
		assertNoWrites(t, dir)
	})
	if _, err := loginAs(t, "carol", "ci-admin"); err != nil {
		t.Errorf("login after converging: %v", err)
	}
}

func TestNameTakenByUnmanagedObjectIsAnError(t *testing.T) {
	setup(t)
	mustDo(t, nomadC, "POST", "/v1/acl/policy/ci-read-jobs", map[string]any{"Name": "ci-read-jobs", "Description": "hand-made", "Rules": `node { policy = "read" }`}, nil)
	dir := policiesDir(t, nil)
	before := snapshot(t)
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	if code != exitError || !strings.Contains(stderr, `nomad acl policy "ci-read-jobs"`) || !strings.Contains(stderr, "not managed by the broker") {
		t.Fatalf("apply over an unmanaged name: exit %d", code)
	}
	unchanged(t, before, "apply with a conflict")
	if code, _, _ := broker(t, "plan", dir); code != exitError {
		t.Errorf("plan with a conflict: exit %d, want 1", code)
	}
}

// snapshot lists the names of the objects in the three systems.
func snapshot(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	v := vaultC
	for _, p := range []string{"sys/policies/acl", "auth/jwt/role", "nomad/role", "consul/roles", "identity/group/name"} {
		var l struct {
			Data struct{ Keys []string } `json:"data"`
		}
		if err := v.Do(context.Background(), "GET", "/v1/"+p+"?list=true", nil, &l); err != nil && apiclient.StatusOf(err) != 404 {
			t.Fatal(err)
		}
		out[p] = l.Data.Keys
	}
	var np, cp []struct{ Name, Rules, Description string }
	mustDo(t, nomadC, "GET", "/v1/acl/policies", nil, &np)
	mustDo(t, consulC, "GET", "/v1/acl/policies", nil, &cp)
	for _, p := range np {
		out["nomad"] = append(out["nomad"], p.Name+" "+p.Description)
	}
	for _, p := range cp {
		out["consul"] = append(out["consul"], p.Name+" "+p.Description)
	}
	return out
}

// unchanged fails t when the servers' objects differ from before, a
// snapshot taken before what ran.
func unchanged(t *testing.T, before map[string][]string, what string) {
	t.Helper()
	if d := cmp.Diff(before, snapshot(t)); d != "" {
		t.Errorf("%s changed the servers (-before +after):\n%s", what, d)
	}
}

// refusedEverywhere: validate, plan and apply of the policy folder dir
// each exit with an error that says want.
func refusedEverywhere(t *testing.T, dir, want string) {
	t.Helper()
	for _, cmd := range [][]string{{"validate", dir}, {"plan", dir}, {"apply", "--auto-approve", dir}} {
		code, _, stderr := broker(t, cmd...)
		if code != exitError || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr lacks %q", cmd[0], code, want)
		}
	}
}

func TestBadInputNamesTheLineAndWritesNothing(t *testing.T) {
	setup(t)
	tests := []struct {
		name  string
		edits map[string]string
		want  string // file:line:col and message
	}{
		{"malformed HCL", map[string]string{"profiles.hcl": "profile \"x\" {\n  roles = [\"a\"\n}\n"}, "profiles.hcl:3:1: Missing item separator"},
		{"missing policy", map[string]string{"nomad/ci-submit-jobs.hcl": ""}, `profiles.hcl:19:38: Missing policy: nomad policy "ci-submit-jobs"`},
		{"duplicate profile", map[string]string{"zz.hcl": "profile \"ci-user\" {\n  roles = [\"x\"]\n}\n"}, `zz.hcl:1:9: Duplicate profile: profile "ci-user" is already declared at`},
		{"max_ttl < ttl", map[string]string{"more.hcl": "profile \"short\" {\n  roles   = [\"x\"]\n  ttl     = \"2h\"\n  max_ttl = \"1h\"\n}\n"}, "more.hcl:4:13: Invalid max_ttl"},
		{"invalid Nomad policy", map[string]string{"nomad/node-read.hcl": "node {\n  policy = \"admin\"\n}\n"}, `nomad/node-read.hcl:2:12: Invalid value: Nomad policy "admin" is not one of`},
		{"bad claim pointer", map[string]string{"broker.hcl": strings.Replace(readFile(t, policiesDir(t, nil)+"/broker.hcl"), `"cern_roles"`, `"/resource_access/~2/roles"`, 1)}, "broker.hcl:4:17: Invalid roles_claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := policiesDir(t, tc.edits)
			before := snapshot(t)
			refusedEverywhere(t, dir, tc.want)
			unchanged(t, before, "the refused run")
		})
	}
}

func TestApplyRefusesWithoutTerminal(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	before := snapshot(t)
	code, _, stderr := broker(t, "apply", dir)
	if code != exitUsage || !strings.Contains(stderr, "--auto-approve") {
		t.Errorf("apply without terminal: exit %d", code)
	}
	unchanged(t, before, "the refused run")
}

// leastPrivilegeEnv is the broker's environment with, as VAULT_TOKEN, a
// token of only the documented least-privilege policy
// (docs/broker-vault-policy.hcl, written to Vault as policy broker).
func leastPrivilegeEnv(t *testing.T) func(string) string {
	t.Helper()
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/broker", map[string]any{"policy": readFile(t, "../../../docs/broker-vault-policy.hcl")}, nil)
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	mustDo(t, vaultC, "POST", "/v1/auth/token/create", map[string]any{"policies": []string{"broker"}, "no_default_policy": true, "ttl": "10m"}, &tok)
	env := brokerEnv()
	return func(k string) string {
		if k == "VAULT_TOKEN" {
			return tok.Auth.ClientToken
		}
		return env(k)
	}
}

// planApplyPlan runs plan (changes), apply and plan again (no changes)
// of dir with env; t fails at once at the first other exit code.
func planApplyPlan(t *testing.T, env func(string) string, dir string) {
	t.Helper()
	for _, st := range []struct {
		args []string
		want int
	}{
		{[]string{"plan", "--detailed-exitcode", dir}, exitChanges},
		{[]string{"apply", "--auto-approve", dir}, exitOK},
		{[]string{"plan", "--detailed-exitcode", dir}, exitOK},
	} {
		if code, _, _ := brokerWith(t, env, nil, st.args...); code != st.want {
			t.Fatalf("broker %v with the least-privilege token: exit %d, want %d", st.args, code, st.want)
		}
	}
}

// The policy of docs/broker-vault-policy.hcl is enough for plan, apply and
// apply --prune.
func TestLeastPrivilegeVaultPolicy(t *testing.T) {
	setup(t)
	restricted := leastPrivilegeEnv(t)
	planApplyPlan(t, restricted, policiesDir(t, nil))
	if _, err := loginAs(t, "carol", "ci-admin"); err != nil {
		t.Fatalf("login after a least-privilege apply: %v", err)
	}
	// Prune, including an identity group, also works.
	dir2 := policiesDir(t, map[string]string{"profiles.hcl": "profile \"placeholder\" {\n  roles = [\"nobody\"]\n}\n"})
	if code, out, errb := brokerWith(t, restricted, nil, "apply", "--auto-approve", "--prune", "--allow-mass-delete", dir2); code != exitOK {
		t.Fatalf("apply --prune with the least-privilege token: exit %d\n%s", code, out+errb)
	}
}

func TestMissingMountIsExplained(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	writeFile(t, dir+"/broker.hcl", strings.Replace(readFile(t, dir+"/broker.hcl"), `consul_mount       = "consul"`, `consul_mount       = "consul-elsewhere"`, 1))
	before := snapshot(t)
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	if code != exitError || !strings.Contains(stderr, "no consul secrets engine at consul-elsewhere/ in Vault") {
		t.Errorf("apply with a missing mount: exit %d", code)
	}
	unchanged(t, before, "the refused run")
}

// On a terminal, apply shows the plan and goes ahead only on "yes".
func TestApplyAsksOnTerminal(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	for _, answer := range []string{"no\n", "yes\n"} {
		before := snapshot(t)
		// stdin and stderr on a terminal: the binary asks there.
		code, out, errb := brokerOnTerminal(t, answer, "apply", dir)
		t.Logf("answer %q: exit %d\n%s%s", answer, code, out, errb)
		if !strings.Contains(errb, `+ vault jwt role "ci-user"`) || !strings.Contains(errb, "Only 'yes' is accepted") {
			t.Errorf("answer %q: the plan and the question were not shown", answer)
		}
		changed := cmp.Diff(before, snapshot(t)) != ""
		if answer == "no\n" && (code == exitOK || changed) {
			t.Errorf("declined apply: exit %d, servers changed %v", code, changed)
		}
		if answer == "yes\n" && (code != exitOK || !changed || !strings.Contains(out, "Applied:")) {
			t.Errorf("confirmed apply: exit %d, servers changed %v", code, changed)
		}
	}
}

// TestNomadLeaseConfig: apply sets nomad/config/lease to the largest TTL and
// max TTL of the profiles that grant Nomad, so that a Nomad token's lease
// is the profile's (1h), not the engine's default (768h); drift is shown
// and repaired; a profile with a longer TTL raises it; a no-change apply
// writes nothing.
func TestNomadLeaseConfig(t *testing.T) {
	setup(t)
	readLease := func() (ttl, maxTTL int64) {
		t.Helper()
		var out struct {
			Data struct {
				TTL    int64 `json:"ttl"`
				MaxTTL int64 `json:"max_ttl"`
			} `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/nomad/config/lease", nil, &out)
		return out.Data.TTL, out.Data.MaxTTL
	}
	lease := changeKey{plan.Create, plan.NomadLease, "nomad"}

	// The ALICE example: ci-user 1h/12h, ci-admin 1h/8h, build-operator 30m/4h.
	dir := policiesDir(t, nil)
	if keys := planKeys(t, dir); !slices.Contains(keys, lease) {
		t.Errorf("plan lacks %v: %v", lease, keys)
	}
	mustApply(t, dir)
	if ttl, maxTTL := readLease(); ttl != 3600 || maxTTL != 12*3600 {
		t.Errorf("nomad/config/lease = %d, %d; want 3600, 43200", ttl, maxTTL)
	}
	assertNoWrites(t, dir)

	// A user's Nomad token now has the profile's lease.
	var creds struct {
		LeaseDuration int64 `json:"lease_duration"`
	}
	mustDo(t, vaultLogin(t, "alice", "ci-user"), "GET", "/v1/nomad/creds/ci-user", nil, &creds)
	if creds.LeaseDuration != 3600 {
		t.Errorf("nomad creds lease %ds, want 3600", creds.LeaseDuration)
	}

	// Drift: shown as an update of the changed field, and repaired.
	mustDo(t, vaultC, "POST", "/v1/nomad/config/lease", map[string]any{"ttl": 60, "max_ttl": 12 * 3600}, nil)
	code, out, _ := broker(t, "plan", "--detailed-exitcode", dir)
	if code != exitChanges || !strings.Contains(out, `~ vault nomad lease config "nomad"`) || !strings.Contains(out, "ttl: 60 -> 3600") || strings.Contains(out, "max_ttl:") {
		t.Errorf("plan after drift: exit %d\n%s", code, out)
	}
	res := applyDir(t, dir, apply.Options{})
	if res.TotalWrites() != 1 {
		t.Errorf("repair: %d writes, want 1 (%v)", res.TotalWrites(), res.Plan.Changes)
	}
	if ttl, maxTTL := readLease(); ttl != 3600 || maxTTL != 12*3600 {
		t.Errorf("after repair: %d, %d", ttl, maxTTL)
	}

	// A profile with a longer TTL raises the mount's setting.
	longer := strings.Replace(readFile(t, dir+"/profiles.hcl"), `ttl             = "30m"`, `ttl             = "2h"`, 1)
	dir2 := policiesDir(t, map[string]string{"profiles.hcl": longer})
	applyDir(t, dir2, apply.Options{})
	if ttl, maxTTL := readLease(); ttl != 2*3600 || maxTTL != 12*3600 {
		t.Errorf("with a 2h profile: %d, %d; want 7200, 43200", ttl, maxTTL)
	}
	assertNoWrites(t, dir2)
}

// TestProfilePolicyLeases: the generated policy alilogin-profile-P is
// enough for what alilogin does with P's leases: renew them
// (issue.RenewLease) and revoke them (issue.RevokeLease), both in the
// path form, and revoking is limited to P's own leases.
func TestProfilePolicyLeases(t *testing.T) {
	setup(t)
	ctx := context.Background()
	dir := policiesDir(t, nil)
	mustApply(t, dir)
	alice, carol := vaultLogin(t, "alice", "ci-user"), vaultLogin(t, "carol", "ci-admin")
	mint := func(c *apiclient.Client, kind, profile string) *store.Token {
		t.Helper()
		var tok *store.Token
		var err error
		if kind == "nomad" {
			tok, err = issue.Mint(ctx, c, store.Nomad, issue.Target{Mount: "nomad"}, profile, time.Now())
		} else {
			tok, err = issue.Mint(ctx, c, store.Consul, issue.Target{Mount: "consul"}, profile, time.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, kind := range []string{"nomad", "consul"} {
		t.Run(kind, func(t *testing.T) {
			own, other := mint(alice, kind, "ci-user"), mint(carol, kind, "ci-admin")
			if _, err := issue.RenewLease(ctx, alice, own.LeaseID, 0, time.Now()); err != nil {
				t.Errorf("renewing the profile's own lease: %v", err)
			}
			var pe *issue.PermissionError
			if err := issue.RevokeLease(ctx, alice, other.LeaseID); !errors.As(err, &pe) {
				t.Errorf("revoking another profile's lease: %v, want a permission error", err)
			}
			if err := alice.Do(ctx, "PUT", "/v1/sys/leases/revoke", map[string]string{"lease_id": own.LeaseID}, nil); apiclient.StatusOf(err) != 403 {
				t.Errorf("revoking by lease_id in the body: %v, want 403 (only the path form is allowed)", err)
			}
			if err := issue.RevokeLease(ctx, alice, own.LeaseID); err != nil {
				t.Errorf("revoking the profile's own lease: %v", err)
			}
			var lookup struct{}
			if err := vaultC.Do(ctx, "PUT", "/v1/sys/leases/lookup", map[string]string{"lease_id": own.LeaseID}, &lookup); err == nil {
				t.Errorf("lease %s still exists after its revocation", own.LeaseID)
			}
			if err := vaultC.Do(ctx, "PUT", "/v1/sys/leases/lookup", map[string]string{"lease_id": other.LeaseID}, &lookup); err != nil {
				t.Errorf("the other profile's lease is gone: %v", err)
			}
		})
	}
}

// ssoIDToken signs username (one of users) in at Hydra and returns the ID
// token.
func ssoIDToken(t *testing.T, ctx context.Context, username string) string {
	t.Helper()
	var pw string
	for _, u := range users {
		if u.Username == username {
			pw = u.Password
		}
	}
	tok, err := stack.Hydra.Login(ctx, stack.Hydra.ClientID, username, pw)
	if err != nil {
		t.Fatalf("SSO login of %s: %v", username, err)
	}
	return tok.IDToken
}
