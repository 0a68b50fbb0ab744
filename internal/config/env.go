package config

import (
	"strings"

	"github.com/alisw/alilogin/internal/config/check"
)

// FromEnv is the environment layer: the variables the vault, nomad and
// consul CLIs use, and ALILOGIN_*.
func FromEnv(getenv func(string) string) Config {
	c := Config{
		Issuer:         getenv("ALILOGIN_ISSUER"),
		ClientID:       getenv("ALILOGIN_CLIENT_ID"),
		RolesClaim:     getenv("ALILOGIN_ROLES_CLAIM"),
		UserClaim:      getenv("ALILOGIN_USER_CLAIM"),
		DefaultProfile: getenv("ALILOGIN_PROFILE"),
		Broker:         getenv("ALILOGIN_BROKER"),
		PKIMount:       getenv("ALILOGIN_PKI_MOUNT"),
		Store:          getenv("ALILOGIN_STORE"),
	}
	c.InsecureHTTP, _ = insecureFromEnv(getenv) // Resolve reports a bad value
	if s := getenv("ALILOGIN_SCOPES"); s != "" {
		c.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
	}
	server := func(prefix, addr string) Server {
		s := Server{Addr: addr}
		s.TLS.CACert = getenv(prefix + "_CACERT")
		s.TLS.ClientCert = getenv(prefix + "_CLIENT_CERT")
		s.TLS.ClientKey = getenv(prefix + "_CLIENT_KEY")
		s.TLS.ServerName = getenv(prefix + "_TLS_SERVER_NAME")
		return s
	}
	c.Vault = server("VAULT", getenv("VAULT_ADDR"))
	c.Vault.Mount = getenv("ALILOGIN_JWT_MOUNT")
	c.Nomad = server("NOMAD", getenv("NOMAD_ADDR"))
	c.Nomad.Mount = getenv("ALILOGIN_NOMAD_MOUNT")
	// CONSUL_HTTP_ADDR is usually HOST:PORT without a scheme.
	c.Consul = server("CONSUL", check.ConsulAddress(getenv("CONSUL_HTTP_ADDR"), check.ConsulTLS(getenv("CONSUL_HTTP_SSL"))))
	c.Consul.Mount = getenv("ALILOGIN_CONSUL_MOUNT")
	return c
}
