package policy

import (
	"errors"
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

func certProfile(extra string) string {
	return `profile "reader" {
  roles           = ["readers"]
  vault_policies  = ["secrets-read"]
  nomad_policies  = ["jobs-read"]
  consul_policies = ["kv-read"]
  max_ttl         = "8h"
` + extra + "}\n"
}

func TestClientCertSettings(t *testing.T) {
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": certBroker, "profiles.hcl": certProfile("  client_cert_ttl = \"1h\"\n")}), "p")
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
		{"longer than max_ttl", certBroker, certProfile("  client_cert_ttl = \"9h\"\n"),
			`p/profiles.hcl:7:21: Invalid client_cert_ttl: client_cert_ttl (9h0m0s) is longer than the profile's max_ttl (8h0m0s)`},
		{"no pki mount", "", certProfile("  client_cert_ttl = \"1h\"\n"),
			`p/profiles.hcl:7:21: Missing pki_mount: client_cert_ttl needs the PKI secrets engine's mount`},
		{"not a duration", certBroker, certProfile("  client_cert_ttl = \"soon\"\n"),
			`p/profiles.hcl:7:21: Invalid client_cert_ttl: "soon" is not a duration`},
		{"bad mount", strings.Replace(certBroker, `"pki"`, `"../pki"`, 1), certProfile(""),
			`p/broker.hcl:7:15: Invalid pki_mount`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edits := map[string]string{"profiles.hcl": tc.profile}
			if tc.broker != "" {
				edits["broker.hcl"] = tc.broker
			}
			_, err := LoadFS(minimal(t, edits), "p")
			var perr *Error
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one containing %q", err, tc.want)
			}
		})
	}
}
