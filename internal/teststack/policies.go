package teststack

import (
	"fmt"
	"os"
	"path/filepath"
)

// BrokerConfig is a broker.hcl for this stack: Hydra as the SSO, the
// default mounts jwt, nomad and consul, the JWT auth config managed; with
// servers, also the Nomad and Consul addresses (otherwise they come from
// the environment, Env).
func (s *Stack) BrokerConfig(servers bool) string {
	cfg := fmt.Sprintf(`sso {
  issuer      = %q
  client_id   = %q
  roles_claim = "cern_roles"
  user_claim  = "cern_upn"
}

vault {
  jwt_mount          = "jwt"
  nomad_mount        = "nomad"
  consul_mount       = "consul"
  configure_jwt_auth = true
}
`, s.Hydra.IssuerURL, s.Hydra.ClientID)
	if servers {
		cfg += fmt.Sprintf(`
nomad {
  address = %q
}

consul {
  address = %q
}
`, s.Nomad.Addr, s.Consul.Addr)
	}
	return cfg
}

// CopyPolicies copies the policies directory src (e.g. the repository's
// policies/, the ALICE example) to dst, which may exist but must not hold
// the same files, and writes dst/broker.hcl = BrokerConfig(servers).
func (s *Stack) CopyPolicies(dst, src string, servers bool) error {
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		return fmt.Errorf("could not copy %s: %w", src, err)
	}
	p := filepath.Join(dst, "broker.hcl")
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(p, []byte(s.BrokerConfig(servers)), 0o644)
}

// DirectLoginBlock is broker.hcl's block that turns direct Nomad and
// Consul login on (issue 24): every profile with Nomad or Consul
// policies then gets its auth methods, unless it says direct_login = "off".
const DirectLoginBlock = "\ndirect_login {\n  enabled = true\n}\n"

// EnableDirectLogin adds DirectLoginBlock to dir/broker.hcl, for tests
// whose stack policies need direct login; other tests' broker.hcl stays
// without it.
func EnableDirectLogin(dir string) error {
	p := filepath.Join(dir, "broker.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("could not read broker.hcl: %w", err)
	}
	return os.WriteFile(p, append(b, DirectLoginBlock...), 0o644)
}
