package teststack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// SoloProfiles, as profiles.hcl of CopyPolicies' folder, replaces every
// profile of the ALICE example by one new Vault-only profile: applied
// with --prune, a mass delete of the roles and profile policies.
const SoloProfiles = `
profile "solo" {
  roles          = ["alice-ci-users"]
  vault_policies = ["ci-secrets-read"]
}

role "alice-ci-admins" {
  vault_policies = ["ci-secrets-audit"]
}
`

// AttendedProfile is the profile of the repository's policies/ that
// AddAttended gives an attended tier.
const AttendedProfile = "ci-admin"

// AttendedTier is the attended block AddAttended puts in AttendedProfile:
// a Nomad management token, CI secrets write and the CI services' KV,
// for a window of at most 10 minutes, after a sign-in of at most 2
// minutes ago that carried the step-up acr (StepUpACR).
const AttendedTier = `
  attended {
    vault_policies   = ["ci-secrets-write"]
    nomad_management = true
    consul_policies  = ["ci-service-kv-write"]
    window           = "10m"
    max_age          = "2m"
    acr              = "` + StepUpACR + `"
  }
`

// AddAttended gives the broker folder dir (CopyPolicies' copy of the
// repository's policies/) an attended tier: AttendedTier in the profile
// AttendedProfile, and broker.hcl's attended block with the OIDC mount
// "oidc" and Hydra's confidential client, whose secret it writes to
// secretFile (0600, outside dir: never in policies/). The other profiles
// and what CopyPolicies writes are left as they are, so tests without
// it see the same folder as before.
func (s *Stack) AddAttended(dir, secretFile string) error {
	p := filepath.Join(dir, "profiles.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	head := `profile "` + AttendedProfile + `" {` + "\n"
	i := strings.Index(string(b), head)
	if i < 0 {
		return fmt.Errorf("could not add the attended tier: %s has no profile %q", p, AttendedProfile)
	}
	at := i + len(head)
	out := string(b[:at]) + strings.TrimPrefix(AttendedTier, "\n") + string(b[at:])
	if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(secretFile, []byte(s.Hydra.AttendedClientSecret+"\n"), 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "broker.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\nattended {\n  oidc_mount         = \"oidc\"\n  client_id          = %q\n  client_secret_file = %q\n}\n", s.Hydra.AttendedClientID, secretFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
