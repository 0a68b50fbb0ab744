# Read the CI build secrets (KV v2 mounted at kv/): tokens for pushing
# build artefacts, the Jenkins agents' secrets, the CI's GitHub token.
path "kv/data/ci/*" {
  capabilities = ["read"]
}

path "kv/metadata/ci/*" {
  capabilities = ["read", "list"]
}
