# Add to Vault's default policy (it is not the broker's to write):
#
#   vault policy read default > default.hcl
#   cat docs/deploy/vault-default-policy-lease-deny.hcl >> default.hcl
#   vault policy write default default.hcl
#
# Vault's default policy, which every token gets, allows sys/leases/renew
# and sys/renew with any lease_id in the body: any token (another auth
# method's, a CI's AppRole, a Nomad workload's) could renew a user's
# Nomad or Consul lease with increment = 1, and Vault would revoke the
# token a second later. These rules deny those lease ids for the broker's
# engines; Vault merges denied_parameters across a token's policies, so
# they hold for every token. alilogin and broker serve renew in the path
# form (sys/leases/renew/<lease id>), which their own policies allow for
# their own leases only. With other mounts than nomad/ and consul/, use
# the text `broker plan` prints (it checks the default policy on every
# run and warns while this is missing). See docs/admin-guide.md.
path "sys/leases/renew" {
  capabilities = ["update"]
  denied_parameters = {
    lease_id = ["nomad/creds/*", "consul/creds/*"]
  }
}
path "sys/renew" {
  capabilities = ["update"]
  denied_parameters = {
    lease_id = ["nomad/creds/*", "consul/creds/*"]
  }
}
