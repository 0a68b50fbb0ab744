package serve

import (
	"context"
	"net/http"
	"sync"

	"github.com/alisw/alilogin/internal/apiclient"
)

// HTTPProber asks each server a cheap question that needs no policy:
// Vault's health, Nomad's and Consul's leader.
type HTTPProber struct {
	Vault, Nomad, Consul *apiclient.Client // nil: not probed
}

// Probe implements Prober.
func (p HTTPProber) Probe(ctx context.Context) map[string]error {
	type check struct {
		sys  string
		c    *apiclient.Client
		path string
	}
	checks := []check{
		{"vault", p.Vault, "/v1/sys/health?standbyok=true&perfstandbyok=true"},
		{"nomad", p.Nomad, "/v1/status/leader"},
		{"consul", p.Consul, "/v1/status/leader"},
	}
	out := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range checks {
		if c.c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.c.Do(ctx, http.MethodGet, c.path, nil, nil)
			mu.Lock()
			out[c.sys] = err
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
