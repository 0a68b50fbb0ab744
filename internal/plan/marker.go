package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// Markers. A marker names the object it belongs to, so that a copy of a
// managed object under another name, marker and all, is not managed:
//
//	managed by alilogin broker; object=<system>/<kind>/<name>[; roles=jwt@<mount>,nomad@<mount>,consul@<mount>][; pending=<kind>@<mount>#<digest>,...][; free text]
//
// It is the whole description of a Nomad or Consul ACL policy, the first
// line (after "# ") of a Vault policy, and the value of the managed_by
// metadata of a Vault identity group. roles= is only on the generated
// policy alilogin-profile-P: it lists the roles P that the broker created
// (JWT, nomad, consul), each with its mount, written before them, since
// Vault roles have no room for a marker of their own. pending= lists those
// of them whose write has not been confirmed: the record is written with
// them pending before the roles and rewritten without after. A pending
// entry carries a digest of every field the broker writes to the role
// (PendingEntry, RoleDigest), so that a role found pending is the
// broker's only when it is exactly what the broker wrote, whether or not
// the files still ask for it (a role made by hand after an apply was cut
// short between the two is not; see PendingOwned).
//
// Markers of the version before markers named their objects ("legacy")
// still count, but only where they are exactly what that version wrote for
// that very object (see LegacyDescription, legacyVaultPolicyLine,
// LegacyProfileLine and GroupOwned), so that an upgrade plans no change;
// the broker rewrites them in the new form whenever it updates the object
// for another reason.

// Marker starts every marker, old and new.
const Marker = "managed by alilogin broker"

// markerPrefix starts a marker that names its object.
const markerPrefix = Marker + "; object="

// GroupMetadataKey is the Vault identity group metadata key that holds the
// marker.
const GroupMetadataKey = "managed_by"

// ObjectID is how a marker names the object of kind k called name.
func ObjectID(k Kind, name string) string {
	return string(k.System()) + "/" + k.rule().id + "/" + name
}

// MarkerFor is the marker of object k/name, with further "; "-separated
// parts.
func MarkerFor(k Kind, name string, parts ...string) string {
	return strings.Join(append([]string{markerPrefix + ObjectID(k, name)}, parts...), "; ")
}

// parseMarker reads a marker that names its object: ok when text names
// k/name; parts are the key=value parts after the object.
func parseMarker(k Kind, name, text string) (ok bool, parts map[string]string) {
	rest, found := strings.CutPrefix(text, markerPrefix)
	if !found {
		return false, nil
	}
	fields := strings.Split(rest, "; ")
	if fields[0] != ObjectID(k, name) {
		return false, nil
	}
	parts = map[string]string{}
	for _, f := range fields[1:] {
		if key, val, ok := strings.Cut(f, "="); ok {
			parts[key] = val
		}
	}
	return true, parts
}

// Description is the description of the managed Nomad or Consul ACL
// policy k/name.
func Description(k Kind, name string) string {
	return MarkerFor(k, name, "from "+string(k.System())+"/"+name+".hcl")
}

// LegacyDescription is what the version before markers named their
// objects wrote as the description of Nomad or Consul ACL policy k/name
// (it named the policy's file, which is <system>/<name>.hcl).
func LegacyDescription(k Kind, name string) string {
	return Marker + " from " + string(k.System()) + "/" + name + ".hcl"
}

// DescriptionOwned reports whether a Nomad or Consul ACL policy k/name
// with description desc is managed: desc names that policy, in the new
// form or exactly as the version before wrote it.
func DescriptionOwned(k Kind, name, desc string) bool {
	if ok, _ := parseMarker(k, name, desc); ok {
		return true
	}
	return desc == LegacyDescription(k, name)
}

// GroupMarker is the managed_by metadata of the managed group name.
func GroupMarker(name string) string { return MarkerFor(Group, name) }

// GroupOwned reports whether the Vault identity group name is managed.
// managedBy is its managed_by metadata; typ, alias and aliasOnMount
// describe it and its alias (aliasOnMount: on the broker's JWT mount).
// A new-form marker must name the group. A legacy marker (managed_by ==
// Marker, naming nothing) counts only for what the version before made: an
// external group alilogin-role-<r> whose alias r is on the JWT mount. A
// copy cannot have that alias: Vault allows one alias of a name per mount.
func GroupOwned(name, managedBy, typ, alias string, aliasOnMount bool) bool {
	if ok, _ := parseMarker(Group, name, managedBy); ok {
		return true
	}
	return managedBy == Marker && typ == "external" && aliasOnMount && alias != "" && policy.Group(alias) == name
}

// IsLegacyDescription reports whether desc is the legacy marker of Nomad or
// Consul ACL policy k/name (DescriptionOwned, and the only claim is that
// of the version before).
func IsLegacyDescription(k Kind, name, desc string) bool { return desc == LegacyDescription(k, name) }

// IsLegacyGroupMarker reports whether managedBy is the legacy marker of a
// group (it names nothing).
func IsLegacyGroupMarker(managedBy string) bool { return managedBy == Marker }

// VaultPolicyText is what the broker stores for the managed Vault policy
// name with fields f: the marker as a comment line, then the policy
// (f["policy"]). Vault keeps the text verbatim, so the marker survives.
// The generated policy of a profile also lists its roles (f["roles"])
// and, while their writes are under way, the pending ones (f["pending"]).
func VaultPolicyText(name string, f Fields) string {
	body, _ := f["policy"].(string)
	if p, ok := policy.ProfileOfPolicy(name); ok {
		roles, _ := f["roles"].([]string)
		parts := []string{"roles=" + strings.Join(roles, ",")}
		if pending, _ := f["pending"].([]string); len(pending) > 0 {
			parts = append(parts, "pending="+strings.Join(pending, ","))
		}
		parts = append(parts, "profile "+p+", generated: edit policies/, not this")
		return "# " + MarkerFor(VaultPolicy, name, parts...) + "\n" + body
	}
	if p, ok := policy.ProfileOfAttendedPolicy(name); ok {
		return "# " + MarkerFor(VaultPolicy, name, "attended tier of profile "+p+", generated: edit policies/, not this") + "\n" + body
	}
	return "# " + MarkerFor(VaultPolicy, name, "from vault/"+name+".hcl") + "\n" + body
}

// LegacyProfileLine is the first line the version before wrote in the
// generated policy of profile p.
func LegacyProfileLine(p string) string {
	return "# " + Marker + ": profile " + p + " (generated; edit policies/, not this)"
}

func legacyVaultPolicyLine(name string) string { return "# " + Marker + " from vault/" + name + ".hcl" }

// legacyRoleBlock is the block the version before wrote in the profile
// policy of p for the creds of its role at mount.
func legacyRoleBlock(mount, p string) string {
	return fmt.Sprintf("path %q {\n  capabilities = [\"read\"]\n}\n", mount+"/creds/"+p)
}

// PolicyOwner is what the first line of a live Vault policy says.
type PolicyOwner struct {
	Managed bool
	// Legacy: the only claim is a marker of the version before markers
	// named their objects (such an object is never deleted).
	Legacy bool
	Body   string // the policy after the marker line
	// Roles are the roles the generated policy of a profile records
	// (RoleEntry: "nomad@nomad"), sorted. Pending are those of them
	// recorded before their write, not yet confirmed after it; Unsure
	// those a record without mounts names, whose mount is only assumed
	// (see VaultPolicyOwner).
	Roles, Pending, Unsure []string
}

// VaultPolicyOwner judges the live Vault policy name with text, read
// with the mounts of v.
//
// A new-form marker must name the policy. A legacy first line counts only
// when it is exactly what the version before wrote for this name:
// "# managed by alilogin broker from vault/<name>.hcl" for a policy file,
// LegacyProfileLine(P) for alilogin-profile-P. That version made the JWT
// role P with every profile policy, and the nomad (consul) role P exactly
// when the policy reads <mount>/creds/P, so a legacy profile policy owns
// the JWT role, and the nomad or consul role only where it still holds
// that block; a hand-made role beside it is not the broker's.
//
// A roles= record names the mount of each role (roles=jwt@jwt,nomad@nomad).
// A record without mounts (the first form of roles=) and a legacy profile
// policy count for the mounts they can be tied to: a nomad or consul role
// on the mount whose creds the same policy text grants (the text was
// written with the record, for the mount configured then), the JWT role on
// the JWT mount configured now, but only when that role's token policies
// name the profile's policy (Unsure: apply checks it).
func VaultPolicyOwner(name, text string, v policy.Vault) PolicyOwner {
	line, body, _ := strings.Cut(text, "\n")
	o := PolicyOwner{Body: body}
	comment, isComment := strings.CutPrefix(line, "# ")
	profile, isProfile := policy.ProfileOfPolicy(name)
	if isComment {
		if ok, parts := parseMarker(VaultPolicy, name, comment); ok {
			o.Managed = true
			if isProfile {
				o.Roles, o.Unsure = parseRoles(parts["roles"], profile, body, v)
				o.Pending, _ = parseRoles(parts["pending"], profile, body, v)
			}
			return o
		}
	}
	switch {
	case isProfile && line == LegacyProfileLine(profile):
		o.Managed, o.Legacy = true, true
		o.Roles, o.Unsure = parseRoles("jwt,nomad,consul", profile, body, v)
	case !isProfile && line == legacyVaultPolicyLine(name):
		o.Managed, o.Legacy = true, true
	}
	return o
}

// RoleEntry is how roles= records role kind k on mount.
func RoleEntry(k Kind, mount string) string { return RoleWord(k) + "@" + mount }

// RoleMount is the mount of v that holds roles of kind k.
func RoleMount(v policy.Vault, k Kind) string {
	switch k {
	case NomadRole:
		return v.NomadMount
	case ConsulRole:
		return v.ConsulMount
	case PKIRole:
		return v.PKIMount
	case AttendedNomadRole:
		return v.NomadMount
	case AttendedConsulRole:
		return v.ConsulMount
	case OIDCRole:
		return v.OIDCMount
	}
	return v.JWTMount
}

// parseRoles reads a roles= (or pending=) list of profile p, whose
// policy body is body: entries word@mount as they are, words without a
// mount as VaultPolicyOwner says (unsure lists those assumed). Unknown
// words are left out.
func parseRoles(s, p, body string, v policy.Vault) (roles, unsure []string) {
	for _, e := range strings.Split(s, ",") {
		w, mount, hasMount := strings.Cut(e, "@")
		var k Kind
		for _, kind := range RoleKinds() {
			if w == RoleWord(kind) {
				k = kind
			}
		}
		switch {
		case k == "":
		case hasMount && mount != "":
			roles = append(roles, e)
		case hasMount:
		case k == JWTRole:
			roles = append(roles, RoleEntry(k, v.JWTMount))
			unsure = append(unsure, RoleEntry(k, v.JWTMount))
		case strings.Contains(body, legacyRoleBlock(RoleMount(v, k), p)):
			roles = append(roles, RoleEntry(k, RoleMount(v, k)))
		}
	}
	slices.Sort(roles)
	return slices.Compact(roles), unsure
}

// RoleKinds are the kinds a roles= record lists, in apply order.
func RoleKinds() []Kind {
	var out []Kind
	for _, r := range kindRules {
		if r.roleWord != "" {
			out = append(out, r.kind)
		}
	}
	return out
}

// RoleWord is how roles= names role kind k ("" for other kinds).
func RoleWord(k Kind) string { return k.rule().roleWord }

// RoleOwned reports whether role k/name on its mount of v is the
// broker's: the managed policy alilogin-profile-<profile> records it
// (claims maps a profile to the roles= entries of its live managed
// policy; the profile of a role is its name, ProfileOfRole).
func RoleOwned(claims map[string][]string, v policy.Vault, k Kind, name string) bool {
	p, ok := ProfileOfRole(k, name) // attended.go
	return ok && slices.Contains(claims[p], RoleEntry(k, RoleMount(v, k)))
}
