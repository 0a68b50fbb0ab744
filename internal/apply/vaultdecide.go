package apply

import (
	"net/url"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/plan"
)

// The decisions of vault.go, as functions of the change and of what was
// read: which live objects are read for plan.Owner to judge, which group
// aliases are taken, and the write call (if any) that carries out a
// change. vault.go makes the calls.

// vaultWrite is one write call to Vault. body is nil for a DELETE.
type vaultWrite struct {
	method, path string
	body         any
}

// readablePolicies is the policies read for plan.Owner: every one but
// root, which has no text to read.
func readablePolicies(names []string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(p string) bool { return p == "root" })
}

type roleKey struct {
	kind plan.Kind
	name string
}

// rolesToRead splits the listed roles into those a managed profile policy
// records (read: the broker may have made them) and the others, which are
// not read, only noted (plan.Owner.UnrecordedRole: a conflict when a
// desired role has the name). Both sorted by kind and name.
func rolesToRead(owner *plan.Owner, listed map[plan.Kind][]string) (read, unrecorded []roleKey) {
	for kind, names := range listed {
		for _, n := range names {
			if owner.RoleRecorded(kind, n) {
				read = append(read, roleKey{kind, n})
			} else {
				unrecorded = append(unrecorded, roleKey{kind, n})
			}
		}
	}
	byKey := func(a, b roleKey) int {
		if c := strings.Compare(string(a.kind), string(b.kind)); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	}
	slices.SortFunc(read, byKey)
	slices.SortFunc(unrecorded, byKey)
	return read, unrecorded
}

// aliasTaken is a desired group whose alias another group holds.
type aliasTaken struct {
	group, alias string
	holder       string // the holding group's id
}

// takenAliases finds the desired groups whose alias on the JWT mount
// (accessor) another group holds: Vault allows one alias of a name per
// mount and compares the names without case, so apply would write
// everything before the alias and then fail on it. The live group of the
// desired name (in any case) may hold it. An alias on another mount, or
// no known accessor, takes nothing.
func takenAliases(desired, live []plan.Object, aliases map[string]aliasInfo, accessor string) []aliasTaken {
	if accessor == "" {
		return nil
	}
	holders := map[string]string{} // alias name, lower case -> group id
	for _, a := range aliases {
		if a.MountAccessor == accessor {
			holders[strings.ToLower(a.Name)] = a.CanonicalID
		}
	}
	ids := map[string]string{} // group name, lower case -> id
	for _, o := range live {
		if o.Kind == plan.Group {
			ids[strings.ToLower(o.Name)] = o.ID
		}
	}
	var out []aliasTaken
	for _, d := range desired { // sorted by kind and name
		if d.Kind != plan.Group {
			continue
		}
		alias, _ := d.Fields["alias"].(string)
		holder, ok := holders[strings.ToLower(alias)]
		if !ok || holder == ids[strings.ToLower(d.Name)] {
			continue
		}
		out = append(out, aliasTaken{group: d.Name, alias: alias, holder: holder})
	}
	return out
}

// groupOf is the group name as read (d), with what plan.Owner judges it
// by; nil when Vault has no such group. An alias on a mount other than
// the JWT mount (accessor) shows its mount, so it differs from any
// desired alias.
func groupOf(name string, d groupData, accessor string) *liveGroup {
	if d.ID == "" {
		return nil
	}
	alias, aliasID, aliasName, onMount := "", "", "", false
	if d.Alias != nil && d.Alias.ID != "" {
		aliasID = d.Alias.ID
		alias, aliasName = d.Alias.Name, d.Alias.Name
		onMount = accessor != "" && d.Alias.MountAccessor == accessor
		if !onMount {
			alias += " (on mount " + d.Alias.MountAccessor + ")"
		}
	}
	pols := slices.Clone(d.Policies)
	slices.Sort(pols)
	return &liveGroup{Object: plan.Object{Kind: plan.Group, Name: name, ID: d.ID,
		Fields: plan.Fields{"type": d.Type, "policies": pols, "alias": alias, "alias_id": aliasID}},
		managedBy: d.Metadata[plan.GroupMetadataKey], aliasName: aliasName, onMount: onMount}
}

// policyWrite writes a Vault policy whole, with the broker's marker in its
// text, or deletes it.
func policyWrite(c plan.Change) vaultWrite {
	path := "/v1/sys/policies/acl/" + url.PathEscape(c.Name)
	if c.Action == plan.Delete {
		return vaultWrite{method: "DELETE", path: path}
	}
	return vaultWrite{method: "PUT", path: path, body: map[string]any{"policy": plan.VaultPolicyText(c.Name, c.Desired.Fields)}}
}

// roleWrite writes a role at path whole, or deletes it; a PKI role's body
// is pkiBody's (pki.go).
func roleWrite(path string, c plan.Change, pkiBody func(plan.Fields) (map[string]any, error)) (vaultWrite, error) {
	if c.Action == plan.Delete {
		return vaultWrite{method: "DELETE", path: path}, nil
	}
	if c.Kind == plan.PKIRole {
		body, err := pkiBody(c.Desired.Fields)
		if err != nil {
			return vaultWrite{}, err
		}
		return vaultWrite{method: "POST", path: path, body: body}, nil
	}
	return vaultWrite{method: "POST", path: path, body: roleBody(c.Desired.Fields)}, nil
}

// jwtConfigWrite writes the JWT auth config at path: the settings Vault
// has (live; a config write replaces the whole config) with the desired
// ones over them. The config is never deleted (false).
func jwtConfigWrite(path string, c plan.Change, live map[string]any) (vaultWrite, bool) {
	if c.Action == plan.Delete {
		return vaultWrite{}, false
	}
	body := map[string]any{}
	for k, v := range live {
		if v != nil && v != "" {
			body[k] = v
		}
	}
	for k, v := range c.Desired.Fields {
		body[k] = v
	}
	return vaultWrite{method: "POST", path: path, body: body}, true
}

// nomadLeaseWrite writes <nomad>/config/lease at path, both settings (a
// write replaces the whole config). It is never deleted (false): without
// it the engine falls back to the mount's default lease, which is worse.
func nomadLeaseWrite(path string, c plan.Change) (vaultWrite, bool) {
	if c.Action == plan.Delete {
		return vaultWrite{}, false
	}
	f := c.Desired.Fields
	return vaultWrite{method: "POST", path: path, body: map[string]any{"ttl": f["ttl"], "max_ttl": f["max_ttl"]}}, true
}

// groupWrite writes an identity group by name, marked as the broker's in
// its metadata, or deletes it (its alias goes with it).
func groupWrite(c plan.Change) vaultWrite {
	path := "/v1/identity/group/name/" + url.PathEscape(c.Name)
	if c.Action == plan.Delete {
		return vaultWrite{method: "DELETE", path: path}
	}
	f := c.Desired.Fields
	return vaultWrite{method: "POST", path: path, body: map[string]any{
		"type": f["type"], "policies": f["policies"], "metadata": map[string]string{plan.GroupMetadataKey: plan.GroupMarker(c.Name)},
	}}
}

// aliasWrite gives the group groupID the desired alias (desired["alias"])
// on the JWT mount (accessor): nothing when the group has it already
// (false), else the alias it has (aliasID) renamed, else a new alias.
func aliasWrite(desired plan.Fields, liveAlias, aliasID, accessor, groupID string) (vaultWrite, bool) {
	if liveAlias == desired["alias"] && aliasID != "" {
		return vaultWrite{}, false
	}
	body := map[string]any{"name": desired["alias"], "mount_accessor": accessor, "canonical_id": groupID}
	if aliasID != "" {
		return vaultWrite{method: "POST", path: "/v1/identity/group-alias/id/" + url.PathEscape(aliasID), body: body}, true
	}
	return vaultWrite{method: "POST", path: "/v1/identity/group-alias", body: body}, true
}
