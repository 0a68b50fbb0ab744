# Service configuration and Traefik's dynamic routes in Consul KV.
key_prefix "services/" {
  policy = "write"
}

key_prefix "traefik/" {
  policy = "write"
}
