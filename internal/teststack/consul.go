package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// Consul is a `consul agent -dev` with ACLs enabled, default policy deny,
// bootstrapped.
type Consul struct {
	Addr            string // http://127.0.0.1:PORT
	ManagementToken string
	Bin             string
	// TLS is the client side of ServerTLS (servertls.go); zero: plain HTTP.
	TLS apiclient.TLS
	p   *proc
}

// Client returns an API client with the management token.
func (c *Consul) Client() *apiclient.Client {
	cl, err := apiclient.New("Consul", c.Addr, "X-Consul-Token", c.TLS, 30*time.Second)
	if err != nil {
		panic(err)
	}
	return cl.WithToken(secret.New(c.ManagementToken))
}

// Kill stops Consul at once (fault tests).
func (c *Consul) Kill() { c.p.kill() }

// startConsulTLS starts Consul; with t, its API is HTTPS only and
// requires client certificates (servertls.go).
func startConsulTLS(ctx context.Context, s *Stack, t *ServerTLS) (*Consul, error) {
	bin, err := Bin("consul")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, "consul-")
	if err != nil {
		return nil, err
	}
	hcl := fmt.Sprintf(`acl { enabled = true
  default_policy = "deny"
  enable_token_persistence = false }
ports { %s
  dns = -1
  grpc = -1
  grpc_tls = -1
  serf_lan = %d
  serf_wan = %d
  server = %d }`, t.consulPorts(ports[0]), ports[1], ports[2], ports[3]) + t.consulConfig()
	p, err := startProc("consul", dir, bin, []string{"agent", "-dev", "-bind=127.0.0.1", "-client=127.0.0.1", "-hcl", hcl},
		[]string{"CONSUL_HTTP_ADDR=", "CONSUL_HTTP_TOKEN=", "HOME=" + dir})
	if err != nil {
		return nil, err
	}
	s.add(p)
	c := &Consul{Addr: fmt.Sprintf("%s://127.0.0.1:%d", t.scheme(), ports[0]), Bin: bin, p: p, TLS: t.client()}
	cl := c.Client().WithToken(secret.String{})
	err = p.waitFor(ctx, "a leader and ACL bootstrap", func(ctx context.Context) error {
		var leader string
		if err := cl.Do(ctx, "GET", "/v1/status/leader", nil, &leader); err != nil {
			return err
		}
		if leader == "" {
			return errors.New("no leader yet")
		}
		var tok struct{ SecretID string }
		if err := cl.Do(ctx, "PUT", "/v1/acl/bootstrap", nil, &tok); err != nil {
			return err
		}
		c.ManagementToken = tok.SecretID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
