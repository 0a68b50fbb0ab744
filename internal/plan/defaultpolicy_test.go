package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCheckDefaultPolicy: Vault's stock default policy lets every token
// renew any lease by body (both paths, both engines open); with the text
// DefaultPolicyLeaseDeny gives appended, nothing is open; and the ways an
// admin may write the deny or the grant are read as Vault reads them.
func TestCheckDefaultPolicy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "vault-1.13-default-policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	stock := string(b)
	mounts := []string{"nomad", "consul"}
	allOpen := []string{
		"sys/leases/renew for nomad/creds/*", "sys/leases/renew for consul/creds/*",
		"sys/renew for nomad/creds/*", "sys/renew for consul/creds/*",
	}
	rule := func(path, body string) string { return "path \"" + path + "\" {\n" + body + "\n}\n" }
	deny := func(values string) string {
		return rule("sys/leases/renew", `  capabilities = ["update"]
  denied_parameters = { lease_id = `+values+` }`) + rule("sys/renew", `  capabilities = ["update"]
  denied_parameters = { lease_id = `+values+` }`)
	}
	tests := []struct {
		name   string
		text   string
		mounts []string
		open   []string
		err    bool
	}{
		{"stock", stock, mounts, allOpen, false},
		{"stock and the recommended deny", stock + DefaultPolicyLeaseDeny(mounts), mounts, nil, false},
		{"the deny for nomad only", stock + DefaultPolicyLeaseDeny([]string{"nomad"}), mounts,
			[]string{"sys/leases/renew for consul/creds/*", "sys/renew for consul/creds/*"}, false},
		{"the deny for sys/leases/renew only", stock + DefaultPolicyLeaseRules(mounts)[0].String(), mounts,
			[]string{"sys/renew for nomad/creds/*", "sys/renew for consul/creds/*"}, false},
		{"no engine to check", stock, nil, nil, false},
		{"a wider glob", stock + deny(`["*/creds/*"]`), mounts, nil, false},
		{"a prefix glob covering both", stock + deny(`["n*", "c*"]`), mounts, nil, false},
		{"a bare star is only the string *", stock + deny(`["*"]`), mounts, allOpen, false},
		{"a suffix glob covers nothing", stock + deny(`["*/creds/*x"]`), mounts, allOpen, false},
		{"another mount's glob", stock + deny(`["nomad2/creds/*", "consul-old/creds/*"]`), mounts, allOpen, false},
		{"lease_id denied for every value", stock + deny(`[]`), mounts, nil, false},
		{"the key in upper case", stock + strings.ReplaceAll(deny(`["nomad/creds/*", "consul/creds/*"]`), "lease_id", "LEASE_ID"), mounts, nil, false},
		{"every parameter denied", stock + rule("sys/leases/renew", `capabilities = ["update"]
denied_parameters = { "*" = [] }`) + rule("sys/renew", `capabilities = ["update"]
denied_parameters = { "*" = [] }`), mounts, nil, false},
		{"the block form of HCL 1", stock + rule("sys/leases/renew", `capabilities = ["update"]
denied_parameters {
  lease_id = ["nomad/creds/*", "consul/creds/*"]
}`) + rule("sys/renew", `capabilities = ["update"]
denied_parameters {
  lease_id = ["nomad/creds/*", "consul/creds/*"]
}`), mounts, nil, false},
		{"no renewal at all", rule("auth/token/lookup-self", `capabilities = ["read"]`), mounts, nil, false},
		{"renewal denied", stock + rule("sys/leases/renew", `capabilities = ["deny"]`) + rule("sys/renew", `policy = "deny"`), mounts, nil, false},
		{"read only", rule("sys/leases/renew", `capabilities = ["read"]`) + rule("sys/renew", `policy = "read"`), mounts, nil, false},
		{"the old policy word write", rule("sys/renew", `policy = "write"`), mounts,
			[]string{"sys/renew for nomad/creds/*", "sys/renew for consul/creds/*"}, false},
		{"a glob rule when no exact one", rule("sys/leases/*", `capabilities = ["update"]`), mounts,
			[]string{"sys/leases/renew for nomad/creds/*", "sys/leases/renew for consul/creds/*"}, false},
		{"a + segment", rule("sys/+/renew", `capabilities = ["update"]`), []string{"nomad"},
			[]string{"sys/leases/renew for nomad/creds/*"}, false},
		{"an exact rule wins over a glob", rule("sys/*", `capabilities = ["update"]`) + DefaultPolicyLeaseDeny(mounts), mounts, nil, false},
		{"other mounts", stock + DefaultPolicyLeaseDeny([]string{"alice/nomad"}), []string{"alice/nomad"}, nil, false},
		{"JSON", `{"path": {"sys/leases/renew": {"capabilities": ["update"], "denied_parameters": {"lease_id": ["nomad/creds/*"]}},
  "sys/renew": {"capabilities": ["update"]}}}`, []string{"nomad"}, []string{"sys/renew for nomad/creds/*"}, false},
		{"not HCL", "path \"sys/renew\" {", mounts, nil, true},
		{"a variable", rule("sys/renew", "capabilities = caps"), mounts, nil, true},
		{"denied_parameters not a map", rule("sys/renew", `capabilities = ["update"]
denied_parameters = "lease_id"`), mounts, nil, true},
		{"a denied value not a list", rule("sys/renew", `capabilities = ["update"]
denied_parameters = { lease_id = "nomad/creds/*" }`), mounts, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckDefaultPolicy(tc.text, tc.mounts)
			if (c.Err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", c.Err, tc.err)
			}
			if d := cmp.Diff(tc.open, c.Open); d != "" {
				t.Errorf("open (-want +got):\n%s", d)
			}
			if want := tc.err || len(tc.open) > 0; c.Hole() != want {
				t.Errorf("Hole() = %v, want %v", c.Hole(), want)
			}
		})
	}
}

// TestDefaultPolicyLeaseDenyText: the text to add names both renewal
// paths and every mount's leases, in Vault's policy language, and it is
// what docs/deploy/vault-default-policy-lease-deny.hcl tells admins to
// append (after its comments) for the default mounts.
func TestDefaultPolicyLeaseDenyText(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy", "vault-default-policy-lease-deny.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, line := range strings.SplitAfter(string(doc), "\n") {
		if !strings.HasPrefix(line, "#") {
			want.WriteString(line)
		}
	}
	got := DefaultPolicyLeaseDeny([]string{"nomad", "consul"})
	if diff := cmp.Diff(want.String(), got); diff != "" {
		t.Errorf("DefaultPolicyLeaseDeny against the documented policy (-doc +got):\n%s", diff)
	}
	for _, w := range []string{`path "sys/leases/renew"`, `path "sys/renew"`, `"nomad/creds/*", "consul/creds/*"`, "denied_parameters"} {
		if !strings.Contains(got, w) {
			t.Errorf("the text lacks %s:\n%s", w, got)
		}
	}
}

// TestDeployedDefaultPolicyDenyIsTheBrokers: docs/deploy's file of what
// to add to Vault's default policy is the broker's own text for the
// default mounts, so what the admin is told to add is what plan checks.
func TestDeployedDefaultPolicyDenyIsTheBrokers(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "deploy", "vault-default-policy-lease-deny.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, "#") && strings.TrimSpace(l) != "" {
			rules = append(rules, l)
		}
	}
	if got, want := strings.Join(rules, ""), DefaultPolicyLeaseDeny([]string{"nomad", "consul"}); got != want {
		t.Errorf("docs/deploy/vault-default-policy-lease-deny.hcl, less comments:\n%s\nwant\n%s", got, want)
	}
}
