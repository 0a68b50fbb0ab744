// Package plan decides what `broker apply` must change: it turns a
// *policy.Config into the objects Vault, Nomad and Consul should hold
// (Desired), judges whose each live object is (Owner, ownership.go),
// compares the two (Diff), and says in which order the changes are
// written and how they are counted (Steps, ToDo, Count: order.go). What a
// user's token gets (Grants, TokenPolicies: grants.go) is the one rule
// both `broker explain` and Desired follow. It is pure: no I/O, no clock,
// so every rule of ownership, order and counts and every diff is tested
// without servers. internal/apply reads the live objects and carries the
// changes out. The rules of each kind of object (system, phase,
// deletable, case, marker) are one line of kindRules (object.go).
//
// Ownership: every object the broker writes carries a marker that names
// that very object (marker.go), in a place its system keeps; the Vault
// roles of profile P, which have no such place, are listed in the marker
// of the generated policy alilogin-profile-P, written before them and
// unlisted only after their delete. Markers of the version before count
// only where they are exactly what it wrote for that object. Diff never
// proposes to change or delete an object that is not managed: a desired
// object whose name is taken by an unmanaged one is a Conflict, not an
// update. Guard tells a mass delete (guard.go), which apply --prune
// carries out only when allowed and broker serve never. See
// docs/admin-guide.md, "Managed objects".
package plan
