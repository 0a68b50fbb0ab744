package teststack

import (
	"context"
	"fmt"

	"github.com/alisw/alilogin/internal/apiclient"
)

// ServerTLS makes a Nomad or Consul serve its HTTP API over TLS only and
// require a client certificate signed by CA (Nomad verify_https_client,
// Consul https verify_incoming), as ALICE's servers do. Cert and Key are
// the server's certificate (for 127.0.0.1), also used as the client
// certificate of the management token's client (Client). All are PEM file
// paths, e.g. from VaultPKI.ServerCert and VaultPKI.CA. It is an
// argument of startAgent (agent.go); each spec puts it in its config.
type ServerTLS struct {
	CA, Cert, Key string
}

// StartNomad starts an extra Nomad on the stack (stopped with it); with
// t, TLS with client certificates required. The stack's own Nomad stays
// plain HTTP.
func (s *Stack) StartNomad(ctx context.Context, t *ServerTLS) (*Nomad, error) {
	return startNomad(ctx, s, t)
}

// StartConsul is StartNomad for Consul.
func (s *Stack) StartConsul(ctx context.Context, t *ServerTLS) (*Consul, error) {
	return startConsul(ctx, s, t)
}

func (t *ServerTLS) scheme() string {
	if t == nil {
		return "http"
	}
	return "https"
}

func (t *ServerTLS) client() apiclient.TLS {
	if t == nil {
		return apiclient.TLS{}
	}
	return apiclient.TLS{CACert: t.CA, ClientCert: t.Cert, ClientKey: t.Key}
}

// nomadConfig: TLS on HTTP only (the dev agent's RPC stays in-process
// plain), client certificates verified.
func (t *ServerTLS) nomadConfig() string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf(`
tls {
  http                   = true
  rpc                    = false
  ca_file                = %q
  cert_file              = %q
  key_file               = %q
  verify_https_client    = true
  verify_server_hostname = false
}
`, t.CA, t.Cert, t.Key)
}

// consulPorts: the API on HTTPS at port, plain HTTP off.
func (t *ServerTLS) consulPorts(port int) string {
	if t == nil {
		return fmt.Sprintf("http = %d", port)
	}
	return fmt.Sprintf("http = -1\n  https = %d", port)
}

// consulConfig: client certificates verified on HTTPS.
func (t *ServerTLS) consulConfig() string {
	if t == nil {
		return ""
	}
	return fmt.Sprintf(`
tls {
  defaults { ca_file = %q
    cert_file = %q
    key_file = %q }
  https { verify_incoming = true }
}`, t.CA, t.Cert, t.Key)
}
