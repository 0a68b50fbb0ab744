package renew

import (
	"fmt"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Servers are the canonical addresses (check.Canonical) of the Vault,
// Nomad and Consul servers: in a Chain, the configured ones; in a record
// (VaultAddr, NomadAddr, ConsulAddr), those the login was made with.
// Empty means none.
type Servers struct {
	Vault, Nomad, Consul string
	// How each is checked (apiclient.Trust); empty where none is
	// configured.
	VaultTrust, NomadTrust, ConsulTrust string
}

// ServerBindingError: the stored login was made with another Vault (or,
// for its Nomad or Consul token, another Nomad or Consul) than the one
// configured now, or does not say which Vault (a record of an earlier
// alilogin). Its tokens are not sent anywhere, nor handed out: a new
// login is needed. It wraps ErrLoginNeeded.
type ServerBindingError struct {
	Profile    string
	Server     store.Kind // the server of the token of this kind
	Recorded   string     // the stored login's address; "" for a Nomad/Consul: none
	Configured string     // the configured address; "": none
	// Unrecorded: the record does not name its Vault at all.
	Unrecorded bool
	// Trust: the address is the same, but the certificate is checked
	// another way (another CA file, another TLS server name: Recorded and
	// Configured are apiclient.Trust's descriptions).
	Trust bool
}

func (e *ServerBindingError) Error() string {
	if e.Unrecorded {
		return fmt.Sprintf("the stored login of profile %s does not say which Vault issued its tokens (an earlier alilogin wrote it), so they are not sent anywhere", e.Profile)
	}
	if e.Trust {
		return fmt.Sprintf("the stored login of profile %s checked the %s's certificate with %s, but it would now be checked with %s (VAULT_CACERT, VAULT_TLS_SERVER_NAME, SSL_CERT_FILE or their twins); its tokens go only to a server checked as at login",
			e.Profile, e.Server.Title(), termtext.Clean(e.Recorded), termtext.Clean(e.Configured))
	}
	none := func(s string) string {
		if s == "" {
			return "none"
		}
		return termtext.Clean(s)
	}
	return fmt.Sprintf("the stored login of profile %s was made with the %s at %s, but the configured %s is %s; its tokens go only to the servers they were issued for",
		e.Profile, e.Server.Title(), none(e.Recorded), e.Server.Title(), none(e.Configured))
}

func (e *ServerBindingError) Unwrap() error { return ErrLoginNeeded }

// NotConfiguredError: a Nomad or Consul token was asked for, but no
// address of that server is configured. None is minted nor handed out:
// the nomad and consul CLIs would send it to their default local address,
// in clear. A new login does not help; configuring the address does.
type NotConfiguredError struct {
	Server store.Kind // Nomad or Consul
}

func (e *NotConfiguredError) Error() string {
	env, block := "NOMAD_ADDR", "nomad"
	if e.Server == store.Consul {
		env, block = "CONSUL_HTTP_ADDR", "consul"
	}
	return fmt.Sprintf("no %s address configured (set %s or %s { address } in the configuration file); not minting a %s token",
		e.Server.Title(), env, block, e.Server.Title())
}
