# The least-privilege Vault policy of the broker (`broker plan`, `apply`,
# `serve`) with the default mounts jwt/, nomad/ and consul/. Adjust the
# mount paths if broker.hcl names others. Tested by cmd/broker/e2e's
# TestLeastPrivilegeVaultPolicy.
#
# Beware: whoever can write policies and JWT roles can grant any access.
# Give this token to the broker only, and keep it short-lived or bound to
# the broker's Nomad job (workload identity / AppRole).

# Find the JWT auth mount's accessor (for group aliases) and check that the
# nomad and consul secrets engines are mounted.
path "sys/auth" {
  capabilities = ["read"]
}
path "sys/mounts" {
  capabilities = ["read"]
}

# Vault policies: every policy is read, to find the managed marker.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# JWT roles (one per profile) and, with configure_jwt_auth, the mount config.
path "auth/jwt/role" {
  capabilities = ["list"]
}
path "auth/jwt/role/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "auth/jwt/config" {
  capabilities = ["read", "update"]
}

# Secrets-engine roles (one per profile).
path "nomad/role" {
  capabilities = ["list"]
}
path "nomad/role/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "consul/roles" {
  capabilities = ["list"]
}
path "consul/roles/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# The nomad engine's lease config (ttl, max_ttl of the Nomad tokens).
path "nomad/config/lease" {
  capabilities = ["read", "update"]
}

# Identity groups (one per role block) and their aliases.
path "identity/group/name" {
  capabilities = ["list"]
}
path "identity/group/name/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "identity/group-alias" {
  capabilities = ["create", "update"]
}
path "identity/group-alias/id/*" {
  capabilities = ["update"]
}
# Who holds the alias of a desired group: an alias held by another group
# is a conflict, found before any write (the holder is named when it can
# be read).
path "identity/group-alias/id" {
  capabilities = ["list"]
}
path "identity/group/id/*" {
  capabilities = ["read"]
}

# Only with pki_mount = "pki" in broker.hcl (client certificates): the PKI
# roles of the profiles with client_cert_ttl. The broker never touches the
# mount's CA, issuers or certificates.
path "pki/roles" {
  capabilities = ["list"]
}
path "pki/roles/*" {
  capabilities = ["create", "read", "update", "delete"]
}

# Only with an attended block in broker.hcl (attended tiers, oidc_mount =
# "oidc"): enable the OIDC auth method when it is absent (Vault asks sudo
# for sys/auth/<path>; the broker never disables or tunes it), write its
# config (with the confidential client's secret) and the tiers' OIDC
# roles. The attended nomad and consul roles (<profile>.attended) are
# under nomad/role/* and consul/roles/* above.
path "sys/auth/oidc" {
  capabilities = ["create", "update", "sudo"]
}
path "auth/oidc/config" {
  capabilities = ["read", "update"]
}
path "auth/oidc/role" {
  capabilities = ["list"]
}
path "auth/oidc/role/*" {
  capabilities = ["create", "read", "update", "delete"]
}
