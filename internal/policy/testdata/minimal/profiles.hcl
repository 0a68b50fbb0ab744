profile "reader" {
  description     = "reads"
  roles           = ["readers"]
  vault_policies  = ["secrets-read"]
  nomad_policies  = ["jobs-read"]
  consul_policies = ["kv-read"]
}
