// Package e2e runs leader elections against the real Consul of the test
// stack: one leader at a time, takeover after a clean stop and after a
// crash, and none beside an older broker holding the legacy key.
//
// It is not the broker's own test of leadership: internal/serve/e2e runs two
// broker processes under the lock.
package e2e
