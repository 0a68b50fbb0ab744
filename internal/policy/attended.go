package policy

// attended.go: attended tiers (issue 23). A profile may declare
//
//	attended {
//	  vault_policies   = [...]
//	  nomad_policies   = [...]  # or nomad_management = true
//	  consul_policies  = [...]
//	  window  = "10m"           # longest elevation a user may ask for
//	  uses    = 0               # optional budget of write requests
//	  max_age = "2m"            # how recent the sign-in must be
//	  acr     = "..."           # optional step-up claim value
//	}
//
// and broker.hcl's attended block says where Vault's OIDC auth method is
// and which confidential client of the IdP it uses. The privileged Vault
// token comes from an OIDC role (role_type "oidc") with max_age, so that
// Vault itself refuses a sign-in that is not recent (internal/plan,
// OIDCRoleFields). A Nomad management token is allowed only here.

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Attended is a profile's attended tier; the zero value: none.
type Attended struct {
	VaultPolicies   []string // sorted
	NomadPolicies   []string // sorted; empty when NomadManagement
	NomadManagement bool     // a Nomad management token
	ConsulPolicies  []string // sorted
	Window          time.Duration
	Uses            int
	MaxAge          time.Duration
	ACR             string // "" : no step-up claim bound
}

// Enabled reports whether the profile has an attended tier.
func (a Attended) Enabled() bool { return a.Window > 0 }

// GrantsNomad reports whether the tier gets a Nomad token.
func (a Attended) GrantsNomad() bool { return a.NomadManagement || len(a.NomadPolicies) > 0 }

// GrantsConsul reports whether the tier gets a Consul token.
func (a Attended) GrantsConsul() bool { return len(a.ConsulPolicies) > 0 }

// AttendedSettings is broker.hcl's attended block: Vault's OIDC auth mount
// that the broker configures and the IdP's confidential client. The
// client secret is never in policies/: it comes from the environment
// variable ClientSecretEnv or from ClientSecretFile (a private file).
type AttendedSettings struct {
	OIDCMount        string
	ClientID         string
	ClientSecretFile string
}

// ClientSecretEnv is the environment variable that holds the confidential
// client's secret (it wins over client_secret_file).
const ClientSecretEnv = "ALILOGIN_BROKER_OIDC_CLIENT_SECRET"

// Limits of an attended tier.
const (
	// MaxWindow is the longest window: an attended token is meant to be
	// short-lived.
	MaxWindow = 12 * time.Hour
	// MinMaxAge and MaxMaxAge bound max_age: under a minute a user who
	// types slowly cannot finish; over an hour, "fresh" means little.
	MinMaxAge = 30 * time.Second
	MaxMaxAge = time.Hour
	// DefaultMaxAge is max_age when the block does not say.
	DefaultMaxAge = 2 * time.Minute
)

// AttendedSuffix ends the name of the Vault nomad and consul roles of a
// profile's attended tier: "<profile>.attended". A profile name cannot
// hold a '.', so no profile's own roles can have that name.
const AttendedSuffix = ".attended"

// AttendedRole is the name of the nomad and consul roles of the attended
// tier of profile.
func AttendedRole(profile string) string { return profile + AttendedSuffix }

// ProfileOfAttendedRole is the inverse of AttendedRole.
func ProfileOfAttendedRole(role string) (string, bool) {
	p, ok := strings.CutSuffix(role, AttendedSuffix)
	return p, ok && p != ""
}

// AttendedPolicyPrefix starts the name of the Vault policy generated for
// a profile's attended tier (AttendedPolicy); reserved like
// ProfilePolicyPrefix.
const AttendedPolicyPrefix = "alilogin-attended-"

// AttendedPolicy is the Vault policy generated for the attended tier of
// profile: it reads the tier's nomad and consul creds.
func AttendedPolicy(profile string) string { return AttendedPolicyPrefix + profile }

// ProfileOfAttendedPolicy is the inverse of AttendedPolicy.
func ProfileOfAttendedPolicy(policy string) (string, bool) {
	p, ok := strings.CutPrefix(policy, AttendedPolicyPrefix)
	return p, ok && p != ""
}

var attendedSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "attended"}}}

// loadAttended reads the attended block of profile p (body: the profile's
// attended blocks, taken out of its body by loadProfileAndAgent).
func (l *loader) loadAttended(blocks hcl.Blocks, p *Profile) {
	var first *hcl.Block
	for _, b := range blocks {
		if first != nil {
			l.errorf(b.DefRange.Ptr(), "Duplicate attended block", "profile %q already has an attended block at %s", p.Name, rangeString(first.DefRange.Ptr()))
			continue
		}
		first = b
		a := l.attrs(b, []hcl.AttributeSchema{
			{Name: "vault_policies"}, {Name: "nomad_policies"}, {Name: "nomad_management"}, {Name: "consul_policies"},
			{Name: "window", Required: true}, {Name: "uses"}, {Name: "max_age"}, {Name: "acr"},
		})
		t := &p.Attended
		t.VaultPolicies = l.policyList(a, "vault_policies", "vault")
		t.NomadPolicies = l.policyList(a, "nomad_policies", "nomad")
		t.NomadManagement = l.boolean(a, "nomad_management")
		t.ConsulPolicies = l.policyList(a, "consul_policies", "consul")
		if t.NomadManagement && a["nomad_policies"] != nil {
			l.errorf(a["nomad_management"].Expr.Range().Ptr(), "Invalid nomad_management",
				"a Nomad management token has every right, so nomad_policies say nothing beside it: set one or the other")
		}
		t.Window = l.duration(a, "window", 0)
		if t.Window > MaxWindow {
			l.errorf(a["window"].Expr.Range().Ptr(), "Invalid window", "window (%s) is longer than %s: an attended window is meant to be short", t.Window, MaxWindow)
		}
		if t.Window > 0 && p.MaxTTL > 0 && t.Window > p.MaxTTL {
			l.errorf(a["window"].Expr.Range().Ptr(), "Invalid window", "window (%s) is longer than the profile's max_ttl (%s)", t.Window, p.MaxTTL)
		}
		t.MaxAge = l.duration(a, "max_age", DefaultMaxAge)
		if at := a["max_age"]; at != nil && t.MaxAge > 0 && (t.MaxAge < MinMaxAge || t.MaxAge > MaxMaxAge) {
			l.errorf(at.Expr.Range().Ptr(), "Invalid max_age", "max_age (%s) must be between %s and %s: how recent the sign-in must be", t.MaxAge, MinMaxAge, MaxMaxAge)
		}
		if v, at, ok := l.typed(a, "uses", cty.Number, "a whole number"); ok {
			n, acc := v.AsBigFloat().Int64()
			switch {
			case !v.AsBigFloat().IsInt() || acc != 0:
				l.errorf(at.Expr.Range().Ptr(), "Invalid uses", "uses must be a whole number")
			case n < 0 || n > 10000:
				l.errorf(at.Expr.Range().Ptr(), "Invalid uses", "uses (%d) must be between 0 (no budget) and 10000", n)
			default:
				t.Uses = int(n)
			}
		}
		t.ACR = l.str(a, "acr", "")
		if t.ACR != "" && !acrRE.MatchString(t.ACR) {
			l.errorf(a["acr"].Expr.Range().Ptr(), "Invalid acr", "%q is not a valid acr value: want printable characters without spaces, at most 256", t.ACR)
			t.ACR = ""
		}
		if len(t.VaultPolicies) == 0 && !t.GrantsNomad() && !t.GrantsConsul() {
			l.errorf(b.DefRange.Ptr(), "Empty attended block", "profile %q's attended block grants nothing: list vault_policies, nomad_policies (or nomad_management = true) or consul_policies", p.Name)
		}
		l.attendedRefs = append(l.attendedRefs, b.DefRange)
	}
}

var managementSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "nomad_management"}}}

// refuseManagement refuses nomad_management in a profile block outside
// its attended block (content: the profile's body read with
// managementSchema).
func (l *loader) refuseManagement(content *hcl.BodyContent) {
	if content == nil {
		return
	}
	if at := content.Attributes["nomad_management"]; at != nil {
		l.errorf(at.NameRange.Ptr(), "Nomad management token refused", "a Nomad management token is allowed only in a profile's attended block, where a fresh sign-in checked by Vault unlocks it for a short window")
	}
}

// loadAttendedSettings reads broker.hcl's attended block.
func (l *loader) loadAttendedSettings(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "oidc_mount"}, {Name: "client_id", Required: true}, {Name: "client_secret_file"}, {Name: "client_secret"},
	})
	if at := a["client_secret"]; at != nil {
		l.errorf(at.NameRange.Ptr(), "Secret in policies", "the client secret never goes in policies/: set client_secret_file, or the environment variable %s", ClientSecretEnv)
	}
	s := &AttendedSettings{}
	s.OIDCMount = l.mount(a, "oidc_mount", "oidc")
	s.ClientID = l.str(a, "client_id", "")
	s.ClientSecretFile = l.str(a, "client_secret_file", "")
	l.cfg.Attended = s
	l.cfg.Vault.OIDCMount = s.OIDCMount
	l.attendedBlock = b.DefRange.Ptr()
}

// finishAttended: attended tiers need broker.hcl's attended block, and
// its OIDC mount must be none of the others.
func (l *loader) finishAttended() {
	if l.cfg.Attended == nil {
		for _, rng := range l.attendedRefs {
			l.errorf(rng.Ptr(), "Missing attended block", "an attended tier needs Vault's OIDC auth method and the IdP's confidential client: add an attended block to broker.hcl (oidc_mount, client_id, client_secret_file)")
		}
		return
	}
	v := l.cfg.Vault
	if slices.Contains([]string{v.JWTMount}, v.OIDCMount) {
		l.errorf(l.attendedBlock, "Invalid oidc_mount", "oidc_mount %q is the JWT mount: the attended tiers need an auth mount of their own", v.OIDCMount)
	}
	if l.cfg.Attended.ClientID == l.cfg.SSO.ClientID && l.cfg.SSO.ClientID != "" {
		l.errorf(l.attendedBlock, "Invalid client_id", "the attended client_id is the sso block's: it must be a second, confidential client at the IdP, so that an ordinary login's ID token is no attended one")
	}
}

var acrRE = regexp.MustCompile(`^[\x21-\x7e]{1,256}$`)
