package guard

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
)

func TestRulesFromConfig(t *testing.T) {
	c := &config.Config{
		Nomad:    config.Server{Mount: "alice/nomad"},
		Consul:   config.Server{Mount: "consul"},
		PKIMount: "pki-users",
		Profiles: []config.Profile{
			{Name: "ci", AgentReadOnly: true, AgentReadOnlyBy: config.AgentReadOnlyByBroker},
			{Name: "ci-admin"},
			{Name: "ops", AgentReadOnly: true, AgentReadOnlyBy: "the config file /home/u/.config/alilogin/config.hcl"},
		},
	}
	mounts := Mounts{Nomad: "alice/nomad", Consul: "consul", PKI: "pki-users"}
	for _, tc := range []struct {
		profile string
		want    Rules
	}{
		{"ci", Rules{ReadOnly: true, Mounts: mounts,
			ReadOnlyHint: "profile ci is read-only through the agent (the broker's policies); profiles that are not: ci-admin"}},
		{"ops", Rules{ReadOnly: true, Mounts: mounts,
			ReadOnlyHint: "profile ops is read-only through the agent (the config file /home/u/.config/alilogin/config.hcl); profiles that are not: ci-admin"}},
		{"ci-admin", Rules{Mounts: mounts}},
		{"unknown", Rules{Mounts: mounts}},
	} {
		if d := cmp.Diff(tc.want, FromConfig(c, tc.profile)); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.profile, d)
		}
	}
	// The rules refuse a write of a read-only profile with that hint, and
	// the nomad engine's creds at the configured mount.
	r := FromConfig(c, "ci")
	d := Check(store.Nomad, wire(t, "PUT", "/v1/jobs"), r)
	if d.Reason != ReadOnly || d.Refuse != "refused: PUT /v1/jobs is not in the read-only routes of nomad; "+r.ReadOnlyHint {
		t.Errorf("%+v", d)
	}
	if d := Check(store.Vault, wire(t, "GET", "/v1/alice/nomad/creds/ci"), FromConfig(c, "ci-admin")); d.Reason != Secret {
		t.Errorf("%+v", d)
	}
}
