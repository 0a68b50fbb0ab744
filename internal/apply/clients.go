package apply

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
)

// Clients are the broker's connections to the three systems, each with an
// admin token.
type Clients struct {
	Vault  *apiclient.Client
	Nomad  *apiclient.Client
	Consul *apiclient.Client
}

// DefaultTimeout bounds each HTTP call.
const DefaultTimeout = apiclient.DefaultTimeout

// ClientsFromEnv builds the clients from the environment the vault, nomad
// and consul CLIs use, falling back to the addresses and TLS files of cfg
// (which may be nil):
//
//	VAULT_ADDR  VAULT_TOKEN  VAULT_CACERT  VAULT_CLIENT_CERT  VAULT_CLIENT_KEY
//	NOMAD_ADDR  NOMAD_TOKEN  NOMAD_CACERT  NOMAD_CLIENT_CERT  NOMAD_CLIENT_KEY
//	CONSUL_HTTP_ADDR  CONSUL_HTTP_TOKEN  CONSUL_HTTP_SSL  CONSUL_CACERT
//	CONSUL_CLIENT_CERT  CONSUL_CLIENT_KEY
//
// Every token must be set: the broker needs an admin token for each system;
// but the clients whose token variable is in leased get none (neither is
// it read): the caller gives them their token (broker serve's
// --nomad-token-from-vault).
func ClientsFromEnv(getenv func(string) string, cfg *policy.Config, leased ...string) (Clients, error) {
	if cfg == nil {
		cfg = &policy.Config{}
	}
	var errs []error
	insecureHTTP := strings.EqualFold(getenv("BROKER_INSECURE_HTTP"), "true")
	build := func(server apiclient.Server, addrVar, tokenVar, prefix, fileAddr string, fileTLS apiclient.TLS) *apiclient.Client {
		name := server.String()
		addr := getenv(addrVar)
		fromEnv := addr != ""
		if addr == "" {
			addr = fileAddr
		}
		if name == "Consul" {
			addr = check.ConsulAddress(addr, check.ConsulTLS(getenv("CONSUL_HTTP_SSL")))
		}
		if addr == "" {
			errs = append(errs, fmt.Errorf("no %s address: set %s or the address in the %s block of broker.hcl", name, addrVar, strings.ToLower(name)))
			return nil
		}
		if fromEnv { // broker.hcl's addresses were checked when it was loaded
			if err := check.Address(addr, insecureHTTP); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w; to send the admin token over it anyway, set BROKER_INSECURE_HTTP=true", addrVar, err))
				return nil
			}
		}
		token := getenv(tokenVar)
		if slices.Contains(leased, tokenVar) {
			token = ""
		} else if token == "" {
			errs = append(errs, fmt.Errorf("no %s token: set %s", name, tokenVar))
			return nil
		}
		t := fileTLS
		for v, dst := range map[string]*string{prefix + "_CACERT": &t.CACert, prefix + "_CLIENT_CERT": &t.ClientCert, prefix + "_CLIENT_KEY": &t.ClientKey} {
			if s := getenv(v); s != "" {
				*dst = s
			}
		}
		c, err := apiclient.For(server, addr, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("could not set up the %s client: %w", name, err))
			return nil
		}
		return c.WithToken(secret.New(token))
	}
	c := Clients{
		Vault:  build(apiclient.Vault, "VAULT_ADDR", "VAULT_TOKEN", "VAULT", cfg.Vault.Addr, cfg.Vault.TLS),
		Nomad:  build(apiclient.Nomad, "NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD", cfg.Nomad.Addr, cfg.Nomad.TLS),
		Consul: build(apiclient.Consul, "CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL", cfg.Consul.Addr, cfg.Consul.TLS),
	}
	if len(errs) > 0 {
		return Clients{}, errors.Join(errs...)
	}
	return c, nil
}

// CloseIdleConnections closes the idle connections of the three clients;
// call it when done with them (Consul limits connections per client).
func (c Clients) CloseIdleConnections() {
	for _, cl := range []*apiclient.Client{c.Vault, c.Nomad, c.Consul} {
		if cl != nil && cl.HTTP != nil {
			cl.HTTP.CloseIdleConnections()
		}
	}
}
