# Read the secrets the build infrastructure needs: package repository
# upload keys, the web services' certificates and credentials.
path "kv/data/build/*" {
  capabilities = ["read"]
}

path "kv/metadata/build/*" {
  capabilities = ["list"]
}
