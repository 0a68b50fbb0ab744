package reaper

import (
	"strings"
	"time"
)

// Profile is what the reaper needs to know of a managed profile.
type Profile struct {
	Name   string
	MaxTTL time.Duration
}

// matchPrefix returns the profile whose prefix(name) starts s, preferring
// the longest profile name. Names with '-' can make the attribution
// ambiguous ("vault-ci-admins-..." may be profile ci-admins, or profile ci
// for a user whose display name starts with "admins"), so the MaxTTL
// returned is the largest of all the profiles that match: a token is never
// reaped earlier than any of its possible profiles allows.
func matchPrefix(s string, profiles []Profile, prefix func(string) string) (Profile, bool) {
	var best Profile
	found := false
	var maxTTL time.Duration
	for _, p := range profiles {
		if p.Name == "" || !strings.HasPrefix(s, prefix(p.Name)) {
			continue
		}
		maxTTL = max(maxTTL, p.MaxTTL)
		if !found || len(p.Name) > len(best.Name) {
			best, found = p, true
		}
	}
	best.MaxTTL = maxTTL
	return best, found
}

// NomadProfile attributes a Nomad token name to a managed profile.
func NomadProfile(name string, profiles []Profile) (Profile, bool) {
	return matchPrefix(name, profiles, func(p string) string { return "vault-" + p + "-" })
}

// ConsulProfile attributes a Consul token description to a managed profile.
func ConsulProfile(description string, profiles []Profile) (Profile, bool) {
	return matchPrefix(description, profiles, func(p string) string { return "Vault " + p + " " })
}
