# Profiles: who (SSO roles) may get what (Vault, Nomad and Consul policies).
# `alilogin login --profile NAME` picks one; `broker explain --roles a,b`
# shows what a user with those roles may use.

profile "ci-user" {
  description     = "Look at the CI: read CI and build jobs in Nomad, the catalog and KV in Consul, CI build secrets in Vault."
  roles           = ["alice-ci-users", "alice-ci-admins"]
  vault_policies  = ["ci-secrets-read"]
  nomad_policies  = ["ci-read-jobs"]
  consul_policies = ["catalog-kv-read"]
  ttl             = "1h"
  max_ttl         = "12h"
}

profile "ci-admin" {
  description     = "Run the CI: submit and manage CI builder and Jenkins jobs, write the CI services' KV, manage CI build secrets."
  roles           = ["alice-ci-admins"]
  vault_policies  = ["ci-secrets-read", "ci-secrets-write"]
  nomad_policies  = ["ci-read-jobs", "ci-submit-jobs"]
  consul_policies = ["catalog-kv-read", "ci-service-kv-write"]
  ttl             = "1h"
  max_ttl         = "8h"
}

profile "build-operator" {
  description     = "Operate the build infrastructure: submit jobs in the build and web namespaces, write service KV (Traefik routes), read build secrets."
  roles           = ["alice-build-operators"]
  vault_policies  = ["build-secrets-read"]
  nomad_policies  = ["build-submit-jobs", "node-read"]
  consul_policies = ["catalog-kv-read", "services-kv-write"]
  ttl             = "30m"
  max_ttl         = "4h"
}

# Extra Vault policies for every token of a user holding the role,
# whatever profile they log in with (Vault identity groups).
role "alice-ci-admins" {
  vault_policies = ["ci-secrets-audit"]
}
