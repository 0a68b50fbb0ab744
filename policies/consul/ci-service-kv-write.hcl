# Configuration of the CI services, kept in Consul KV.
key_prefix "ci/" {
  policy = "write"
}
