package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestEnvClientCertWithCACert: when env hands out the login's client
// certificate for Nomad and Consul, it hands out with it the CA alilogin
// verifies that server with: the config file's for Nomad, the one set by
// hand (CONSUL_CACERT) for Consul, never replaced.
func TestEnvClientCertWithCACert(t *testing.T) {
	env := testutil.Home(t, map[string]string{"ALILOGIN_PKI_MOUNT": "pki", "VAULT_ADDR": "https://vault.example.cern:8200", "NOMAD_ADDR": "https://nomad.example.cern:4646",
		"CONSUL_HTTP_ADDR": "consul.example.cern:8501", "CONSUL_HTTP_SSL": "true", "CONSUL_CACERT": "/home/me/consul-ca.pem"})
	cfgDir := filepath.Join(env["XDG_CONFIG_HOME"], "alilogin")
	if err := os.MkdirAll(cfgDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "config.hcl"), []byte("nomad {\n  ca_cert = \"/etc/alice/nomad-ca.pem\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string { return env[k] }
	st := openFileStore(t, env)
	exp := time.Now().Add(time.Hour)
	tok := func(s string) *store.Token {
		return &store.Token{Secret: secret.New(s), ExpiresAt: exp, Renewable: true, LeaseID: s + "-lease"}
	}
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		VaultAddr: "https://vault.example.cern:8200", NomadAddr: "https://nomad.example.cern:4646", ConsulAddr: "https://consul.example.cern:8501",
		Vault: tok("hvs.vault"), Nomad: tok("nomad"), Consul: tok("consul"), UpdatedAt: time.Now(),
		ClientCert: &clientcert.Cert{CertPEM: "cert", ChainPEM: "ca", Key: secret.New("key"), Mount: "pki", Serial: "01", Subject: "CN=alice", NotAfter: exp}}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"env", "--profile", "ci", "--shell", "sh"},
		&cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: getenv})
	if code != 0 {
		t.Fatalf("env: exit %d\n%s", code, errb.String())
	}
	files := clientcert.PathsIn(filepath.Join(env["XDG_RUNTIME_DIR"], "alilogin", "ci"))
	for _, want := range []string{
		"NOMAD_CLIENT_CERT='" + files.Cert + "'", "NOMAD_CACERT='/etc/alice/nomad-ca.pem'",
		"CONSUL_CLIENT_CERT='" + files.Cert + "'", "CONSUL_CACERT='/home/me/consul-ca.pem'",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("env lacks %s:\n%s", want, out.String())
		}
	}
}
