package policy

import (
	"strings"
	"testing"
	"time"
)

const certBroker = `sso {
  issuer    = "https://sso.example.org/realms/test"
  client_id = "alilogin-test"
}

vault {
  pki_mount = "pki"
}
`

func TestClientCertSettings(t *testing.T) {
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": readerProfile("  client_cert_ttl = \"1h\"\n")}), "p")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Vault.PKIMount != "pki" || cfg.Profiles[0].ClientCert.TTL != time.Hour {
		t.Errorf("pki mount %q, certificate TTL %s; want pki, 1h", cfg.Vault.PKIMount, cfg.Profiles[0].ClientCert.TTL)
	}
	cfg, err = LoadFS(minimal(t, nil), "p")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Vault.PKIMount != "" || cfg.Profiles[0].ClientCert.Enabled() {
		t.Errorf("without the settings: %+v %+v", cfg.Vault, cfg.Profiles[0].ClientCert)
	}
}

func TestClientCertSettingsErrors(t *testing.T) {
	tests := []struct {
		name, broker, profile, want string
	}{
		{"longer than max_ttl", certBroker, readerProfile("  client_cert_ttl = \"9h\"\n"),
			`p/profiles.hcl:7:21: Invalid client_cert_ttl: client_cert_ttl (9h0m0s) is longer than the profile's max_ttl (8h0m0s)`},
		{"no pki mount", "", readerProfile("  client_cert_ttl = \"1h\"\n"),
			`p/profiles.hcl:7:21: Missing pki_mount: client_cert_ttl needs the PKI secrets engine's mount`},
		{"not a duration", certBroker, readerProfile("  client_cert_ttl = \"soon\"\n"),
			`p/profiles.hcl:7:21: Invalid client_cert_ttl: "soon" is not a duration`},
		{"bad mount", strings.Replace(certBroker, `"pki"`, `"../pki"`, 1), readerProfile(""),
			`p/broker.hcl:7:15: Invalid pki_mount`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantLoadError(t, tc.broker, tc.profile, tc.want)
		})
	}
}

// TestClientCertTTLFloor: a client_cert_ttl below
// MinClientCertTTL is refused with its file:line (it would make alilogin
// sign and revoke a certificate every few runs); the floor itself loads.
func TestClientCertTTLFloor(t *testing.T) {
	for _, ttl := range []string{"1s", "59s"} {
		_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": readerProfile("  client_cert_ttl = \"" + ttl + "\"\n")}), "p")
		want := `p/profiles.hcl:7:21: Invalid client_cert_ttl: client_cert_ttl (` + ttl + `) is shorter than 1m0s`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("client_cert_ttl %s: %v; want %s", ttl, err, want)
		}
	}
	if _, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": readerProfile("  client_cert_ttl = \"1m\"\n")}), "p"); err != nil {
		t.Errorf("client_cert_ttl 1m: %v", err)
	}
}

// TestDottedUserClaimWarns: with client certificates, a user
// claim that may hold dots (not cern_upn or email) is a warning naming the
// first client_cert_ttl's file:line, as Vault's role would sign a dotted
// name such as server.global.nomad; the default cern_upn is none.
func TestDottedUserClaimWarns(t *testing.T) {
	prof := readerProfile("  client_cert_ttl = \"1h\"\n")
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
