package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// Nomad is a `nomad agent -dev` with ACLs enabled and bootstrapped.
type Nomad struct {
	Addr            string // http://127.0.0.1:PORT
	ManagementToken string
	Bin             string
	// TLS is the client side of ServerTLS (servertls.go); zero: plain HTTP.
	TLS apiclient.TLS
	p   *proc
}

// Client returns an API client with the management token.
func (n *Nomad) Client() *apiclient.Client {
	c, err := apiclient.New("Nomad", n.Addr, "X-Nomad-Token", n.TLS, 30*time.Second)
	if err != nil {
		panic(err)
	}
	return c.WithToken(secret.New(n.ManagementToken))
}

// Kill stops Nomad at once (fault tests).
func (n *Nomad) Kill() { n.p.kill() }

// startNomadTLS starts Nomad; with t, its HTTP API is TLS only and
// requires client certificates (servertls.go).
func startNomadTLS(ctx context.Context, s *Stack, t *ServerTLS) (*Nomad, error) {
	bin, err := Bin("nomad")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, "nomad-")
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`
data_dir = %q
acl { enabled = true }
ports {
  http = %d
  rpc  = %d
  serf = %d
}
plugin "raw_exec" {
  config { enabled = true }
}
`, filepath.Join(dir, "data"), ports[0], ports[1], ports[2]) + t.nomadConfig()
	cfgPath := filepath.Join(dir, "acl.hcl")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	p, err := startProc("nomad", dir, bin, []string{"agent", "-dev", "-bind=127.0.0.1", "-network-interface=lo", "-config=" + cfgPath},
		[]string{"NOMAD_ADDR=", "NOMAD_TOKEN=", "HOME=" + dir})
	if err != nil {
		return nil, err
	}
	s.add(p)
	n := &Nomad{Addr: fmt.Sprintf("%s://127.0.0.1:%d", t.scheme(), ports[0]), Bin: bin, p: p, TLS: t.client()}
	c := n.Client().WithToken(secret.String{})
	err = p.waitFor(ctx, "a leader and ACL bootstrap", func(ctx context.Context) error {
		var leader string
		if err := c.Do(ctx, "GET", "/v1/status/leader", nil, &leader); err != nil {
			return err
		}
		if leader == "" {
			return errors.New("no leader yet")
		}
		var tok struct{ SecretID string }
		if err := c.Do(ctx, "POST", "/v1/acl/bootstrap", nil, &tok); err != nil {
			return err
		}
		n.ManagementToken = tok.SecretID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}
