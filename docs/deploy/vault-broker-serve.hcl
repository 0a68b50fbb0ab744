# Vault policy "alilogin-broker-serve": what `broker serve` needs on top of
# docs/broker-vault-policy.hcl ("alilogin-broker"), for the credential mode
# in which it reads its Nomad and Consul tokens from Vault. Tested by
# internal/serve/e2e TestJobSpec (the job runs with exactly these two
# policies).

# Short-lived management tokens for Nomad and Consul, from the secrets
# engines' roles made for the broker (see operations.md).
path "nomad/creds/alilogin-broker" {
  capabilities = ["read"]
}
path "consul/creds/alilogin-broker" {
  capabilities = ["read"]
}

# Renew those leases, and revoke them on shutdown or when replaced.
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/revoke" {
  capabilities = ["update"]
}

# The orphan-token reaper: list the leases of the profiles' nomad and consul
# creds (LIST sys/leases/lookup/<prefix> needs sudo; it gives lease ids
# only) and read their issue times. Adjust the mounts if broker.hcl names
# others.
path "sys/leases/lookup/nomad/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup/consul/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}
