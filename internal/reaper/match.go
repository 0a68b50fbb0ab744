package reaper

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/policy"
)

// ClockSlack is how far apart the time in a token's label (Vault's clock)
// and the token's create time (Nomad's or Consul's clock) may be for the
// label to be the one Vault gave it.
const ClockSlack = time.Minute

// Grant is what a profile grants in one system: the Vault mount of the
// secrets engine that makes its tokens and the ACL policies they carry.
// No policies: the profile grants nothing there, unless Management (an
// attended tier's Nomad management tokens, policies none).
type Grant struct {
	Mount    string
	Policies []string
	// Management: the role makes Nomad management tokens (only an
	// attended tier's role does; policy refuses it anywhere else).
	Management bool
}

// grants reports whether g grants anything in its system.
func (g Grant) grants() bool { return len(g.Policies) > 0 || g.Management }

// Profile is what the reaper needs to know of a managed profile.
type Profile struct {
	Name   string
	MaxTTL time.Duration
	Nomad  Grant
	Consul Grant
}

// ProfilesOf returns the reaper's view of the profiles of cfg. An
// attended tier counts as a profile of its own, named as its roles
// (policy.AttendedRole: "<profile>.attended"), whose max TTL is the
// window and whose Nomad grant may be management tokens.
func ProfilesOf(cfg *policy.Config) []Profile {
	out := make([]Profile, 0, len(cfg.Profiles))
	for _, p := range cfg.Profiles {
		out = append(out, Profile{Name: p.Name, MaxTTL: p.MaxTTL,
			Nomad:  Grant{Mount: cfg.Vault.NomadMount, Policies: p.NomadPolicies},
			Consul: Grant{Mount: cfg.Vault.ConsulMount, Policies: p.ConsulPolicies}})
		if a := p.Attended; a.Enabled() && cfg.Attended != nil {
			out = append(out, Profile{Name: policy.AttendedRole(p.Name), MaxTTL: a.Window,
				Nomad:  Grant{Mount: cfg.Vault.NomadMount, Policies: a.NomadPolicies, Management: a.NomadManagement},
				Consul: Grant{Mount: cfg.Vault.ConsulMount, Policies: a.ConsulPolicies}})
		}
	}
	return out
}

// format is how Vault 1.13's secrets engine of one system labels the
// tokens it makes for role R: prefix + R + sep + display name + sep + the
// unix-nano time of the request. The nomad engine then cuts the name to
// its max_token_name_length (default 256), which can cut the time short
// or away; such a name never matches (its number is not a time within a
// minute of the token's creation).
type format struct {
	prefix string
	sep    byte
}

var (
	nomadFormat  = format{prefix: "vault-", sep: '-'} // the token's Name
	consulFormat = format{prefix: "Vault ", sep: ' '} // the token's Description
)

// rolePrefix is what a label made for role starts with.
func (f format) rolePrefix(role string) string { return f.prefix + role + string(f.sep) }

// madeAt returns the time written in label if label has the exact format
// of a token Vault made for role.
func (f format) madeAt(label, role string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(label, f.rolePrefix(role))
	if !ok || role == "" {
		return time.Time{}, false
	}
	i := strings.LastIndexByte(rest, f.sep)
	if i < 0 {
		return time.Time{}, false
	}
	digits := rest[i+1:]
	if len(digits) == 0 || len(digits) > 19 || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// token is a Nomad or Consul ACL token as the reaper sees it.
type token struct {
	Accessor string
	Label    string // Nomad name, Consul description
	Created  time.Time
	// Client: an ordinary client token (Nomad type client; Consul without
	// global-management), linked to policies only (no ACL roles, service
	// or node identities, auth method).
	Client bool
	// Management: a Nomad management token linked to no ACL role. Only a
	// grant with Management (an attended tier's) may claim one.
	Management bool
	Policies   []string
	// Expires: the token has an expiry of its own (Nomad's and Consul's
	// ExpirationTime), as the tokens of a JWT login (direct login) have
	// and those of Vault's engines never do: it dies by itself.
	Expires bool
}

// candidate is a token that has every mark of one Vault made for a managed
// profile, old enough to be reaped if Vault has no lease for it.
type candidate struct {
	token
	Profile Profile   // the longest-named profile it fits
	MadeAt  time.Time // the time in its label
	Mount   string    // where its lease would be
	Age     time.Duration
}

func within(a, b time.Time) bool { d := a.Sub(b); return d <= ClockSlack && d >= -ClockSlack }

func subset(have, allowed []string) bool {
	for _, p := range have {
		if !slices.Contains(allowed, p) {
			return false
		}
	}
	return true
}

// match tells whether t is a candidate: a client token without an expiry
// of its own whose label has
// Vault's exact format for a managed profile granting this system, with
// the time in it within ClockSlack of the token's create time, whose
// policies are among those the profile grants, and older than the
// profile's max TTL plus grace; or, by the same rules, a management token
// whose label is that of an attended tier granting management tokens
// (and only such a tier's). Profile names may contain the separator
// ("ci" and "ci-admins"), so a label can fit several profiles: the
// largest max TTL of all the profiles whose prefix it has counts.
func match(t token, f format, grant func(Profile) Grant, profiles []Profile, now time.Time, grace time.Duration) (candidate, bool) {
	if !t.Client && !t.Management || t.Expires || t.Created.IsZero() {
		return candidate{}, false
	}
	var (
		c      candidate
		found  bool
		maxTTL time.Duration
	)
	for _, p := range profiles {
		if p.Name == "" || !strings.HasPrefix(t.Label, f.rolePrefix(p.Name)) {
			continue
		}
		maxTTL = max(maxTTL, p.MaxTTL)
		made, ok := f.madeAt(t.Label, p.Name)
		g := grant(p)
		if !ok || !within(made, t.Created) || !fits(t, g) {
			continue
		}
		if !found || len(p.Name) > len(c.Profile.Name) {
			c, found = candidate{token: t, Profile: p, MadeAt: made, Mount: g.Mount}, true
		}
	}
	if !found {
		return candidate{}, false
	}
	c.Age = now.Sub(t.Created)
	return c, c.Age > maxTTL+grace
}

// fits reports whether token t is of the kind grant g makes: a management
// token (no policies) of a management grant, or a client token whose
// policies are among those of a grant with policies.
func fits(t token, g Grant) bool {
	if t.Management {
		return g.Management && len(t.Policies) == 0
	}
	return t.Client && !g.Management && len(g.Policies) > 0 && subset(t.Policies, g.Policies)
}
