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

# Renew those leases, and revoke them on shutdown or when replaced, in
# the path form (sys/leases/renew/<lease id>, sys/leases/revoke/<lease id>),
# as serve does: the path names the lease, and no parameter may name
# another (Vault reads lease_id from the body before the path). Vault's
# default policy is to deny lease_id in the body of sys/leases/renew and
# sys/renew for the nomad and consul engines, for every token
# (vault-default-policy-lease-deny.hcl), so serve does not renew by body.
# Adjust the paths if --nomad-token-from-vault and
# --consul-token-from-vault name others.
path "sys/leases/renew/nomad/creds/alilogin-broker/*" {
  capabilities = ["update"]
  allowed_parameters = {
    increment = []
  }
}
path "sys/leases/renew/consul/creds/alilogin-broker/*" {
  capabilities = ["update"]
  allowed_parameters = {
    increment = []
  }
}
path "sys/leases/revoke/nomad/creds/alilogin-broker/*" {
  capabilities = ["update"]
  denied_parameters = {
    "*" = []
  }
}
path "sys/leases/revoke/consul/creds/alilogin-broker/*" {
  capabilities = ["update"]
  denied_parameters = {
    "*" = []
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
