package teststack

import "context"

// OrphanCreds reads mount/creds/role (a nomad or consul secrets engine)
// through Vault, then makes Vault drop the lease without revoking the
// token: the engine's config/access is pointed at dead so that the
// revocation fails, sys/leases/revoke-force removes the lease anyway, and
// the engine gets access back. That is a lost revocation as Nomad or
// Consul sees it: a Vault-made token that no lease will ever revoke. It
// returns the lease's ID and the creds' data.
func (s *Stack) OrphanCreds(ctx context.Context, mount, role string, access, dead map[string]any) (leaseID string, data map[string]any, err error) {
	v := s.Vault.Client()
	var out struct {
		LeaseID string         `json:"lease_id"`
		Data    map[string]any `json:"data"`
	}
	// Each step only when the ones before it worked.
	do := func(method, path string, in, out any) {
		if err == nil {
			err = v.Do(ctx, method, path, in, out)
		}
	}
	do("GET", "/v1/"+mount+"/creds/"+role, nil, &out)
	do("POST", "/v1/"+mount+"/config/access", dead, nil)
	do("PUT", "/v1/sys/leases/revoke-force/"+out.LeaseID, nil, nil)
	do("POST", "/v1/"+mount+"/config/access", access, nil)
	return out.LeaseID, out.Data, err
}
