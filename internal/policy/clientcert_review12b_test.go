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

// TestReview12bDottedUserClaimWarns: with client certificates, a user
// claim that may hold dots (not cern_upn or email) is a warning naming the
// first client_cert_ttl's file:line, as Vault's role would sign a dotted
// name such as server.global.nomad; the default cern_upn is none.
func TestReview12bDottedUserClaimWarns(t *testing.T) {
	prof := certProfile("  client_cert_ttl = \"1h\"\n")
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": prof}), "p")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range cfg.Warnings {
		if strings.Contains(w, "dots") {
			t.Errorf("cern_upn: warning %q", w)
		}
	}
	broker := strings.Replace(certBroker, `client_id = "alilogin-test"`, `client_id = "alilogin-test"`+"\n  user_claim = \"preferred_username\"", 1)
	cfg, err = LoadFS(minimal(t, map[string]string{"broker.hcl": broker, "profiles.hcl": prof}), "p")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range cfg.Warnings {
		found = found || strings.HasPrefix(w, "p/profiles.hcl:7:21: ") && strings.Contains(w, `"preferred_username" claim, which may hold dots`)
	}
	if !found {
		t.Errorf("preferred_username: warnings %q; want one about dots at p/profiles.hcl:7:21", cfg.Warnings)
	}
}
