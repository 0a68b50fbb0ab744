# CI admins may see the history of the CI secrets (versions, not values).
path "kv/metadata/ci/*" {
  capabilities = ["read", "list"]
}
