package apiclient

import "time"

// Server is one of the three systems alilogin and the broker talk to.
type Server int

// The servers For builds clients of.
const (
	Vault Server = iota
	Nomad
	Consul
)

// DefaultTimeout bounds each HTTP call of a client For builds.
const DefaultTimeout = 30 * time.Second

// String is the server's name in messages: "Vault", "Nomad", "Consul".
func (s Server) String() string {
	switch s {
	case Vault:
		return "Vault"
	case Nomad:
		return "Nomad"
	case Consul:
		return "Consul"
	}
	return "server"
}

// TokenHeader is the header the server reads its token from.
func (s Server) TokenHeader() string {
	switch s {
	case Vault:
		return "X-Vault-Token"
	case Nomad:
		return "X-Nomad-Token"
	case Consul:
		return "X-Consul-Token"
	}
	return ""
}

// For is the one client factory of alilogin and the broker: a client of
// server s at addr with the TLS material t (CA, client certificate), the
// server's token header, DefaultTimeout and New's redirect policy (no
// redirect to another origin). It sends no token until WithToken.
func For(s Server, addr string, t TLS) (*Client, error) {
	return New(s.String(), addr, s.TokenHeader(), t, DefaultTimeout)
}
