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

# Renew those leases, and revoke them on shutdown or when replaced. Vault
# takes the lease id from the request body (lease_id), so a rule on the
# path alone would let this token renew or revoke any lease (a renewal
# with an increment of one second makes a lease expire): lease_id is
# limited to the leases of the two roles above. Vault merges the
# parameters of every rule on one path of a token's policies, so these
# rules also narrow Vault's default policy (sys/leases/renew, sys/renew),
# should the broker's token have it. Adjust the globs if the flags
# --nomad-token-from-vault and --consul-token-from-vault name other paths.
path "sys/leases/renew" {
  capabilities = ["update"]
  allowed_parameters = {
    lease_id = ["nomad/creds/alilogin-broker/*", "consul/creds/alilogin-broker/*"]
  }
}
path "sys/renew" {
  capabilities = ["update"]
  allowed_parameters = {
    lease_id = ["nomad/creds/alilogin-broker/*", "consul/creds/alilogin-broker/*"]
  }
}
path "sys/leases/revoke" {
  capabilities = ["update"]
  allowed_parameters = {
    lease_id = ["nomad/creds/alilogin-broker/*", "consul/creds/alilogin-broker/*"]
  }
}

# The orphan-token reaper: list the leases of the profiles' nomad and consul
# creds (LIST sys/leases/lookup/<prefix> needs sudo; it gives lease ids
# only) and read their issue times (sys/leases/lookup: any lease id in the
# body, as Vault's default policy allows; it tells a lease's times only
# and changes nothing). Adjust the mounts if broker.hcl names others.
path "sys/leases/lookup/nomad/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup/consul/creds/*" {
  capabilities = ["list", "sudo"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# A token's name does not say which engine made it ("vault-ci-..." may
# come from role ci of any nomad engine, or from a role ci-x), so the
# reaper also looks at every other nomad and consul engine that sys/mounts
# lists (read by "alilogin-broker"): it keeps a token whose name fits a
# role there, or that has a live lease there. It lists those engines'
# role names and lease ids only ("+" matches one path segment; a LIST is
# checked with its trailing slash). For an engine mounted at a path of more
# than one segment, add "<mount>/role" (nomad) or "<mount>/roles"
# (consul) and "sys/leases/lookup/<mount>/creds/*" like these; without
# them the reaper reaps nothing of that system and logs the denied path.
path "+/role/" {
  capabilities = ["list"]
}
path "+/roles/" {
  capabilities = ["list"]
}
path "sys/leases/lookup/+/creds/*" {
  capabilities = ["list", "sudo"]
}
