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
// admin token. Nomad or Consul is nil when the broker left it out
// (ClientsFromEnv): apply then neither reads nor writes it.
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
// Vault is always needed; Nomad and Consul only when cfg writes to them
// (policy.Config.UsesNomad, UsesConsul), or when cfg is nil (its needs are
// unknown). A needed system must have its address and an admin token; a
// system cfg does not write to is connected only when both are set (then
// apply still reads it, to prune what the broker made there before), and
// is otherwise left out (a nil client). The clients whose token variable
// is in leased get none (neither is it read): the caller gives them their
// token (broker serve's --nomad-token-from-vault).
func ClientsFromEnv(getenv func(string) string, cfg *policy.Config, leased ...string) (Clients, error) {
	needNomad, needConsul := true, true
	if cfg != nil {
		needNomad, needConsul = cfg.UsesNomad(), cfg.UsesConsul()
	} else {
		cfg = &policy.Config{}
	}
	var errs []error
	insecureHTTP := strings.EqualFold(getenv("BROKER_INSECURE_HTTP"), "true")
	build := func(server apiclient.Server, need bool, addrVar, tokenVar, prefix, fileAddr string, fileTLS apiclient.TLS) *apiclient.Client {
		name := server.String()
		if !need && ((getenv(addrVar) == "" && fileAddr == "") || (getenv(tokenVar) == "" && !slices.Contains(leased, tokenVar))) {
			return nil
		}
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
		if fromEnv { // broker.hcl's addresses were normalised and checked when it was loaded
			addr = check.Normalize(addr)
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
		Vault:  build(apiclient.Vault, true, "VAULT_ADDR", "VAULT_TOKEN", "VAULT", cfg.Vault.Addr, cfg.Vault.TLS),
		Nomad:  build(apiclient.Nomad, needNomad, "NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD", cfg.Nomad.Addr, cfg.Nomad.TLS),
		Consul: build(apiclient.Consul, needConsul, "CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL", cfg.Consul.Addr, cfg.Consul.TLS),
	}
	if len(errs) > 0 {
		return Clients{}, errors.Join(errs...)
	}
	return c, nil
}

// cover checks that c has a client for every system cfg writes to: a
// broker serve started with policies that used neither may be given ones
// that do.
func (c Clients) cover(cfg *policy.Config) error {
	var errs []error
	if c.Vault == nil {
		errs = append(errs, errors.New("no Vault client"))
	}
	if cfg.UsesNomad() && c.Nomad == nil {
		errs = append(errs, errors.New("the policies have Nomad policies, but the broker has no Nomad address or token: set NOMAD_ADDR (or the address in the nomad block of broker.hcl) and NOMAD_TOKEN"))
	}
	if cfg.UsesConsul() && c.Consul == nil {
		errs = append(errs, errors.New("the policies have Consul policies, but the broker has no Consul address or token: set CONSUL_HTTP_ADDR (or the address in the consul block of broker.hcl) and CONSUL_HTTP_TOKEN"))
	}
	return errors.Join(errs...)
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
