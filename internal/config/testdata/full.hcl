issuer          = "https://sso.example/realms/x"
client_id       = "alilogin"
roles_claim     = "/resource_access/alilogin/roles"
user_claim      = "preferred_username"
default_profile = "ci"
broker          = "https://broker.example"
store           = "file"

vault {
  address     = "https://vault.example:8200"
  mount       = "jwt-cern"
  ca_cert     = "/etc/ca.pem"
  client_cert = "/home/u/.globus/usercert.pem"
  client_key  = "/home/u/.globus/userkey.pem"
}

nomad {
  address = "https://nomad.example:4646"
}

consul {
  address = "https://consul.example:8501"
  mount   = "consul-alice"
}

profile "ci" {
  roles = ["alice-ci-users"]
}

profile "vault-only" {
  roles  = ["alice-readers"]
  nomad  = false
  consul = false
}
