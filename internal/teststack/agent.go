package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// agent is what a Nomad and a Consul dev agent have in common: an HTTP
// address, the management token of the ACL bootstrap, the binary and the
// process.
type agent struct {
	Addr            string // http://127.0.0.1:PORT (https with ServerTLS)
	ManagementToken string
	Bin             string
	// TLS is the client side of ServerTLS (servertls.go); zero: plain HTTP.
	TLS apiclient.TLS

	spec *agentSpec
	p    *proc

	shared *sharedClient
}

// sharedClient is the one client of a server (see Client).
type sharedClient struct {
	once sync.Once
	c    *apiclient.Client
}

// Client returns an API client with the management token. Every call
// returns the same client (one transport): a test that polls the server
// with a new client each time would open a connection per poll, and the
// servers refuse more than 100 (Nomad) or 200 (Consul) connections from
// one address with 429.
func (a *agent) Client() *apiclient.Client {
	a.shared.once.Do(func() {
		c, err := apiclient.New(a.spec.product, a.Addr, a.spec.header, a.TLS, 30*time.Second)
		if err != nil {
			panic(err) // the address is ours
		}
		a.shared.c = c
	})
	// The token is read at each call: bootstrap sets it after the first.
	return a.shared.c.WithToken(secret.New(a.ManagementToken))
}

// agentSpec says how one kind of agent differs from the other.
type agentSpec struct {
	name    string // binary, log and temporary directory name
	product string // for apiclient's errors
	header  string // the token header
	ports   int    // how many free ports config needs; the first is HTTP
	// bootstrapMethod is the method of /v1/acl/bootstrap.
	bootstrapMethod string
	// config writes whatever files the agent needs into dir and returns
	// its arguments after the binary and the environment it runs with;
	// with t, the API is HTTPS only and requires client certificates
	// (servertls.go).
	config func(dir string, ports []int, t *ServerTLS) (args, env []string, err error)
}

// startAgent starts a dev agent as spec says (with t: TLS, client
// certificates required), waits for a leader and bootstraps its ACLs.
func startAgent(ctx context.Context, s *Stack, spec *agentSpec, t *ServerTLS) (*agent, error) {
	bin, err := Bin(spec.name)
	if err != nil {
		return nil, err
	}
	return onFreePorts(func() (*agent, error) { return startAgentOnce(ctx, s, spec, t, bin) })
}

func startAgentOnce(ctx context.Context, s *Stack, spec *agentSpec, t *ServerTLS, bin string) (*agent, error) {
	ports, err := freePorts(spec.ports)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(s.dir, spec.name+"-")
	if err != nil {
		return nil, err
	}
	args, env, err := spec.config(dir, ports, t)
	if err != nil {
		return nil, err
	}
	p, err := startProc(spec.name, dir, bin, args, append(env, "HOME="+dir))
	if err != nil {
		return nil, err
	}
	s.add(p)
	a := &agent{Addr: fmt.Sprintf("%s://127.0.0.1:%d", t.scheme(), ports[0]), Bin: bin, TLS: t.client(), spec: spec, p: p, shared: &sharedClient{}}
	c := a.Client().WithToken(secret.String{})
	err = p.waitFor(ctx, "a leader and ACL bootstrap", func(ctx context.Context) error {
		var leader string
		if err := c.Do(ctx, "GET", "/v1/status/leader", nil, &leader); err != nil {
			return err
		}
		if leader == "" {
			return errors.New("no leader yet")
		}
		var tok struct{ SecretID string }
		if err := c.Do(ctx, spec.bootstrapMethod, "/v1/acl/bootstrap", nil, &tok); err != nil {
			return err
		}
		a.ManagementToken = tok.SecretID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}
