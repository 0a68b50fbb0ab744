# The broker's configuration for ALICE: where the SSO is, where Vault keeps
# the JWT auth method and the Nomad/Consul secrets engines, and where Nomad
# and Consul listen. Tokens never go here: the broker reads VAULT_TOKEN,
# NOMAD_TOKEN and CONSUL_HTTP_TOKEN from its environment.
# See docs/admin-guide.md.

sso {
  issuer      = "https://auth.cern.ch/auth/realms/cern"
  client_id   = "alice-alilogin"
  roles_claim = "cern_roles" # e-groups mapped to roles in the Application Portal
  user_claim  = "cern_upn"
}

vault {
  address      = "https://alice-vault.cern.ch:8200"
  jwt_mount    = "jwt"
  nomad_mount  = "nomad"
  consul_mount = "consul"
  # Let apply keep auth/jwt/config pointing at the SSO issuer.
  configure_jwt_auth = true
}

nomad {
  address = "https://alice-nomad.cern.ch:4646"
}

consul {
  address = "https://alice-consul.cern.ch:8501"
}
