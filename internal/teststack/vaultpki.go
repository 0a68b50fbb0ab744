package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// VaultPKI is a PKI secrets engine in the stack's Vault with its own root
// CA: the CA that signs alilogin's client certificates, and (ServerCert)
// the certificates of Nomad's and Consul's TLS listeners, so that one CA
// file serves both directions.
type VaultPKI struct {
	Mount string
	// CA is the CA certificate's PEM file (0600, in the stack's dir).
	CA    string
	CAPEM string
	dir   string
	s     *Stack
}

// EnablePKI mounts Vault's pki secrets engine at mount, gives it a root
// CA (EC P-256, valid a day) and writes the CA to a file the servers can
// load. It also makes a role "alilogin-test-server" that the stack uses to
// sign server certificates for 127.0.0.1 (ServerCert).
func (s *Stack) EnablePKI(ctx context.Context, mount string) (*VaultPKI, error) {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "pki", "config": map[string]any{"max_lease_ttl": "24h"}}, nil); err != nil {
		return nil, fmt.Errorf("could not enable pki secrets at %s: %w", mount, err)
	}
	var root struct {
		Data struct {
			Certificate string `json:"certificate"`
		} `json:"data"`
	}
	if err := c.Do(ctx, "POST", "/v1/"+mount+"/root/generate/internal", map[string]any{
		"common_name": "alilogin test Vault PKI CA", "ttl": "24h", "key_type": "ec", "key_bits": 256,
	}, &root); err != nil {
		return nil, fmt.Errorf("could not make the root CA of %s: %w", mount, err)
	}
	if err := c.Do(ctx, "POST", "/v1/"+mount+"/roles/alilogin-test-server", map[string]any{
		"allow_ip_sans": true, "allowed_domains": []string{"localhost"}, "allow_bare_domains": true,
		"server_flag": true, "client_flag": true, "key_type": "ec", "key_bits": 256, "ttl": "24h", "max_ttl": "24h",
	}, nil); err != nil {
		return nil, fmt.Errorf("could not make the server role of %s: %w", mount, err)
	}
	dir, err := os.MkdirTemp(s.dir, "pki-")
	if err != nil {
		return nil, err
	}
	p := &VaultPKI{Mount: mount, CA: filepath.Join(dir, "vault-ca.pem"), CAPEM: root.Data.Certificate + "\n", dir: dir, s: s}
	if err := os.WriteFile(p.CA, []byte(p.CAPEM), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

// ServerCert issues a server (and client: Nomad's and Consul's agents talk
// to themselves over TLS) certificate for 127.0.0.1 and localhost, and
// writes it and its key as name.pem and name-key.pem.
func (p *VaultPKI) ServerCert(ctx context.Context, name string) (cert, key string, err error) {
	var out struct {
		Data struct {
			Certificate string `json:"certificate"`
			PrivateKey  string `json:"private_key"`
		} `json:"data"`
	}
	if err := p.s.Vault.Client().Do(ctx, "POST", "/v1/"+p.Mount+"/issue/alilogin-test-server", map[string]any{
		"common_name": "localhost", "ip_sans": "127.0.0.1", "ttl": "23h",
	}, &out); err != nil {
		return "", "", fmt.Errorf("could not issue a server certificate: %w", err)
	}
	cert, key = filepath.Join(p.dir, name+".pem"), filepath.Join(p.dir, name+"-key.pem")
	if err := os.WriteFile(cert, []byte(out.Data.Certificate+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return cert, key, os.WriteFile(key, []byte(out.Data.PrivateKey+"\n"), 0o600)
}

// RevokedSerials lists <mount>/certs/revoked.
func (p *VaultPKI) RevokedSerials(ctx context.Context) ([]string, error) {
	var out struct {
		Data struct {
			Keys []string `json:"keys"`
		} `json:"data"`
	}
	err := p.s.Vault.Client().Do(ctx, "GET", "/v1/"+p.Mount+"/certs/revoked?list=true", nil, &out)
	if apiclient.StatusOf(err) == 404 {
		return nil, nil
	}
	return out.Data.Keys, err
}

// WaitUntil polls cond every 50ms until it holds or ctx ends (a
// condition check, not a fixed sleep).
func WaitUntil(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("gave up waiting for %s", what), ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
