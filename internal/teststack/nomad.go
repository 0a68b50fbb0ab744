package teststack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Nomad is a `nomad agent -dev` with ACLs enabled and bootstrapped.
type Nomad struct{ agent }

var nomadSpec = agentSpec{
	name:            "nomad",
	product:         "Nomad",
	header:          "X-Nomad-Token",
	ports:           3,
	bootstrapMethod: "POST",
	config: func(dir string, ports []int, t *ServerTLS) ([]string, []string, error) {
		cfg := fmt.Sprintf(`
data_dir = %q
disable_update_check = true
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
			return nil, nil, err
		}
		return []string{"agent", "-dev", "-bind=127.0.0.1", "-network-interface=lo", "-config=" + cfgPath},
			[]string{"NOMAD_ADDR=", "NOMAD_TOKEN="}, nil
	},
}

// startNomad starts Nomad; with t, its HTTP API is TLS only and
// requires client certificates (servertls.go).
func startNomad(ctx context.Context, s *Stack, t *ServerTLS) (*Nomad, error) {
	a, err := startAgent(ctx, s, &nomadSpec, t)
	if err != nil {
		return nil, err
	}
	return &Nomad{*a}, nil
}
