# Discover services (Traefik, CI builders, web services) and read KV.
service_prefix "" {
  policy = "read"
}

node_prefix "" {
  policy = "read"
}

key_prefix "" {
  policy = "read"
}
