package serve

import "github.com/alisw/alilogin/internal/policy"

// Identity is this instance's name in the leader lock: flag when given,
// else the Nomad allocation id (allocID, $NOMAD_ALLOC_ID), else the host
// name and the listen address.
func Identity(flag, allocID string, hostname func() (string, error), listen string) string {
	if flag != "" {
		return flag
	}
	if allocID != "" {
		return allocID
	}
	host, _ := hostname()
	return host + "/" + listen
}

// WithEnvVault is p whose Vault address, when the flags give none, is
// vaultAddr ($VAULT_ADDR, the broker's own) if the folder at start (first,
// nil when invalid) names none either; broker.hcl's address otherwise
// wins, for every configuration loaded later too.
func (p Public) WithEnvVault(first *policy.Config, vaultAddr string) Public {
	if p.VaultAddr == "" && (first == nil || first.Vault.Addr == "") {
		p.VaultAddr = vaultAddr
	}
	return p
}
