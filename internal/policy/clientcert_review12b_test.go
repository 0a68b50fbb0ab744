package policy

import (
	"strings"
	"testing"
)

// TestReview12bClientCertTTLFloor: a client_cert_ttl below
// MinClientCertTTL is refused with its file:line (it would make alilogin
// sign and revoke a certificate every few runs); the floor itself loads.
func TestReview12bClientCertTTLFloor(t *testing.T) {
	for _, ttl := range []string{"1s", "59s"} {
		_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": certProfile("  client_cert_ttl = \"" + ttl + "\"\n")}), "p")
		want := `p/profiles.hcl:7:21: Invalid client_cert_ttl: client_cert_ttl (` + ttl + `) is shorter than 1m0s`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("client_cert_ttl %s: %v; want %s", ttl, err, want)
		}
	}
	if _, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": certProfile("  client_cert_ttl = \"1m\"\n")}), "p"); err != nil {
		t.Errorf("client_cert_ttl 1m: %v", err)
	}
}
