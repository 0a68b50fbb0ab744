package guard

import (
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// The guard is on every request's path: its cost next to the agent's
// added-latency budget (issue 21: p50 0.3 ms).
func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct {
		name   string
		server store.Kind
		method string
		target string
		ro     bool
	}{
		{"nomad job status", store.Nomad, "GET", "/v1/job/web/allocations?namespace=ci", false},
		{"nomad read-only", store.Nomad, "GET", "/v1/job/web/allocations?namespace=ci", true},
		{"consul kv read-only", store.Consul, "GET", "/v1/kv/ci/some/key?index=42", true},
		{"vault kv get", store.Vault, "GET", "/v1/secret/data/ci/github", true},
	} {
		r := wire(b, c.method, c.target)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Check(c.server, r, Rules{ReadOnly: c.ro})
			}
		})
	}
}
