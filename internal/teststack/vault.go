package teststack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// Vault is a `vault server -dev`.
type Vault struct {
	Addr      string // http://127.0.0.1:PORT
	RootToken string
	Bin       string
	// TLSAddr is set when VaultOptions.ClientCertTLS is: an https listener
	// that requires a client certificate signed by TLS.CA.
	TLSAddr string
	TLS     *TestPKI
	// StockDefaultPolicy is Vault's default policy as Vault made it, read
	// once it started.
	StockDefaultPolicy string

	p      *proc
	shared sharedClient
}

// VaultOptions configures an extra Vault (StartVault).
type VaultOptions struct {
	// ClientCertTLS adds a second listener that requires and verifies
	// client certificates, like ALICE's production servers.
	ClientCertTLS bool
}

// Client returns an API client with the root token.
func (v *Vault) Client() *apiclient.Client {
	v.shared.once.Do(func() {
		c, err := apiclient.New("Vault", v.Addr, "X-Vault-Token", apiclient.TLS{}, 30*time.Second)
		if err != nil {
			panic(err) // the address is ours
		}
		v.shared.c = c
	})
	return v.shared.c.WithToken(secret.New(v.RootToken)) // one client, one transport (see agent.Client)
}

// Kill stops Vault at once (fault tests). The stack must not be reused for
// Vault afterwards.
func (v *Vault) Kill() { v.p.kill() }

// StartVault starts an extra Vault on the stack (stopped with it), e.g. one
// with a client-certificate TLS listener.
func (s *Stack) StartVault(ctx context.Context, o VaultOptions) (*Vault, error) {
	return startVault(ctx, s, o)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func startVault(ctx context.Context, s *Stack, o VaultOptions) (*Vault, error) {
	bin, err := Bin("vault")
	if err != nil {
		return nil, err
	}
	return onFreePorts(func() (*Vault, error) { return startVaultOnce(ctx, s, o, bin) })
}

func startVaultOnce(ctx context.Context, s *Stack, o VaultOptions, bin string) (*Vault, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, "vault-")
	if err != nil {
		return nil, err
	}
	v := &Vault{Addr: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), RootToken: "root-" + randomHex(12), Bin: bin}
	args := []string{"server", "-dev", "-dev-root-token-id=" + v.RootToken, "-dev-listen-address=127.0.0.1:" + itoa(ports[0]), "-dev-no-store-token"}
	if o.ClientCertTLS {
		pki, err := NewTestPKI(dir)
		if err != nil {
			return nil, err
		}
		v.TLS = pki
		v.TLSAddr = fmt.Sprintf("https://127.0.0.1:%d", ports[1])
		cfg := fmt.Sprintf(`listener "tcp" {
  address = "127.0.0.1:%d"
  tls_cert_file = %q
  tls_key_file = %q
  tls_client_ca_file = %q
  tls_require_and_verify_client_cert = true
}
`, ports[1], pki.ServerCert, pki.ServerKey, pki.CA)
		cfgPath := filepath.Join(dir, "tls.hcl")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		args = append(args, "-config="+cfgPath)
	}
	p, err := startProc("vault-"+itoa(ports[0]), dir, bin, args, []string{"HOME=" + dir, "VAULT_ADDR=", "VAULT_TOKEN="})
	if err != nil {
		return nil, err
	}
	s.add(p)
	v.p = p
	c := v.Client()
	err = p.waitFor(ctx, "unsealed and active", func(ctx context.Context) error {
		var h struct {
			Initialized, Sealed, Standby bool
		}
		if err := c.Do(ctx, "GET", "/v1/sys/health", nil, &h); err != nil {
			return err
		}
		if !h.Initialized || h.Sealed || h.Standby {
			return fmt.Errorf("not active: %+v", h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var def struct {
		Data struct {
			Policy string `json:"policy"`
		} `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/policies/acl/default", nil, &def); err != nil {
		return nil, fmt.Errorf("could not read Vault's default policy: %w", err)
	}
	v.StockDefaultPolicy = def.Data.Policy
	return v, nil
}
