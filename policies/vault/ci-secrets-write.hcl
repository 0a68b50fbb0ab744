# Create and rotate the CI build secrets.
path "kv/data/ci/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}

path "kv/metadata/ci/*" {
  capabilities = ["read", "list", "delete"]
}
