package apiclient

import "testing"

func TestEscapePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                          "",
		"nomad/creds/ci/abc":        "nomad/creds/ci/abc",
		"secret/a b/c?d#e":          "secret/a%20b/c%3Fd%23e",
		"sys/leases/revoke/x%2F..y": "sys/leases/revoke/x%252F..y",
	} {
		if got := EscapePath(in); got != want {
			t.Errorf("EscapePath(%q) = %q, want %q", in, got, want)
		}
	}
}
