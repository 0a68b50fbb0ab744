package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/policy"
)

func TestPendingOwned(t *testing.T) {
	p := policy.Profile{Name: "ci", ConsulPolicies: []string{"c"}}
	written := ConsulRoleFields(p)
	e := RoleEntry(ConsulRole, "consul")
	pending := []string{PendingEntry(ConsulRole, "consul", written)}
	// As Vault reads it back: empty lists left out.
	readBack := with(written, Fields{"consul_roles": []string(nil), "service_identities": []string(nil), "node_identities": []string(nil)})
	extra := with(written, Fields{"consul_roles": []string{"hand-made-admin"}})
	other := with(written, Fields{"consul_policies": []string{"hand-made"}})
	edited := with(written, Fields{"consul_policies": []string{"c", "d"}})
	tests := []struct {
		name          string
		pending       []string
		desired, live Fields
		want          bool
	}{
		{"what was written, desired", pending, written, readBack, true},
		{"what was written, no longer desired", pending, nil, readBack, true},
		{"what was written, files edited since", pending, edited, readBack, true},
		{"hand-made, no longer desired (SameFields(nil, live) is no proof)", pending, nil, other, false},
		{"hand-made with extra grants", pending, written, extra, false},
		{"gone", pending, written, nil, false},
		{"old entry without digest: exactly what is desired", []string{e}, written, readBack, true},
		{"old entry without digest: not desired", []string{e}, nil, readBack, false},
		{"old entry without digest: extra grants", []string{e}, written, extra, false},
		{"entry of another mount", []string{PendingEntry(ConsulRole, "consul2", written)}, written, readBack, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PendingOwned(ConsulRole, e, tc.pending, tc.desired, tc.live); got != tc.want {
				t.Errorf("PendingOwned = %v, want %v", got, tc.want)
			}
		})
	}
}

// A role still pending from an apply cut short that this plan updates
// keeps the digest of what is there and adds that of what is written, so
// that the role is the broker's whichever of the two writes a new cut
// lands between.
func TestPendingUpdateKeepsBothDigests(t *testing.T) {
	const pp = "alilogin-profile-ci"
	old := NomadRoleFields(policy.Profile{NomadPolicies: []string{"a"}})
	now := NomadRoleFields(policy.Profile{NomadPolicies: []string{"a", "b"}})
	livePending := []string{PendingEntry(NomadRole, "nomad", old)}
	desired := []Object{
		{Kind: VaultPolicy, Name: pp, Fields: Fields{"policy": "", "roles": []string{"jwt@jwt", "nomad@nomad"}}},
		{Kind: NomadRole, Name: "ci", Mount: "nomad", Fields: now},
	}
	live := []Object{
		{Kind: VaultPolicy, Name: pp, Managed: true, Fields: Fields{"policy": "", "roles": []string{"jwt@jwt", "nomad@nomad"}, "pending": livePending}},
		{Kind: NomadRole, Name: "ci", Mount: "nomad", Managed: true, Fields: old},
	}
	p := Diff(desired, live, false)
	i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Kind == VaultPolicy })
	if i < 0 || p.Changes[i].Interim == nil || !p.Changes[i].Late {
		t.Fatalf("no interim record before the role update: %v", p.Changes)
	}
	got, _ := p.Changes[i].Interim.Fields["pending"].([]string)
	for _, want := range []string{PendingEntry(NomadRole, "nomad", old), PendingEntry(NomadRole, "nomad", now)} {
		if !slices.Contains(got, want) {
			t.Errorf("interim pending %v lacks %s", got, want)
		}
	}
	if fin, _ := p.Changes[i].Desired.Fields["pending"].([]string); len(fin) != 0 {
		t.Errorf("final record still pending: %v", fin)
	}
	if text := VaultPolicyText(pp, p.Changes[i].Interim.Fields); !strings.Contains(text, "pending="+strings.Join(got, ",")) {
		t.Errorf("interim text does not record the digests:\n%s", text)
	}
}
