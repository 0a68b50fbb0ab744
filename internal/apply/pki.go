package apply

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/plan"
)

// Vault PKI roles (plan.PKIRole) live at <pki>/roles/:name and are the
// broker's when the profile policy records them (roles=pki@<pki>), like
// the other roles. Their allowed_domains name the JWT auth mount's
// accessor, which only Vault knows: reads put plan.JWTAccessor in its
// place, writes the accessor (a role templated on another mount's aliases
// reads as drift and is rewritten).

func (s *session) pkiRolePath(name string) string {
	return "/v1/" + s.cfg.Vault.PKIMount + "/roles/" + url.PathEscape(name)
}

// listPKIRoles lists the PKI roles; none without a PKI mount.
func (s *session) listPKIRoles(ctx context.Context) ([]string, error) {
	if s.cfg.Vault.PKIMount == "" {
		return nil, nil
	}
	return s.list(ctx, "/v1/"+s.cfg.Vault.PKIMount+"/roles")
}

// checkPKIMount: the configured PKI mount must be a pki secrets engine.
func checkPKIMount(pki, typ string, found bool) error {
	if pki == "" || found && typ == "pki" {
		return nil
	}
	return fmt.Errorf("no pki secrets engine at %s/ in Vault; enable it and give it a CA: vault secrets enable -path=%s pki", pki, pki)
}

func (s *session) jwtAccessor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accessor
}

// pkiRoleFields puts a PKI role read from Vault into canonical form.
func (s *session) pkiRoleFields(d map[string]json.RawMessage) plan.Fields {
	f := plan.Fields{}
	for _, k := range plan.PKIRoleFieldNames {
		switch {
		case slices.Contains(plan.PKIRoleListFields, k):
			f[k] = sortedStrings(d[k])
		case slices.Contains(plan.PKIRoleStringFields, k):
			f[k] = str(d[k])
		case slices.Contains(plan.PKIRoleNumberFields, k):
			f[k] = num(d[k])
		default:
			var v bool
			_ = json.Unmarshal(d[k], &v)
			f[k] = v
		}
	}
	if acc := s.jwtAccessor(); acc != "" {
		own := plan.AliasTemplate(acc)
		doms := slices.Clone(f["allowed_domains"].([]string))
		for i, d := range doms {
			if d == own {
				doms[i] = plan.AliasTemplate(plan.JWTAccessor)
			}
		}
		slices.Sort(doms)
		f["allowed_domains"] = doms
	}
	return f
}

// pkiRoleBody is what a PKI role write sends: the accessor in place of
// plan.JWTAccessor.
func (s *session) pkiRoleBody(f plan.Fields) (map[string]any, error) {
	acc := s.jwtAccessor()
	if acc == "" {
		return nil, fmt.Errorf("could not write pki role: the jwt auth mount's accessor is unknown")
	}
	body := make(map[string]any, len(f))
	for k, v := range f {
		body[k] = v
	}
	doms, _ := f["allowed_domains"].([]string)
	out := make([]string, len(doms))
	for i, d := range doms {
		out[i] = strings.ReplaceAll(d, plan.JWTAccessor, acc)
	}
	body["allowed_domains"] = out
	return body, nil
}
