path "kv/data/x/*" { capabilities = ["read"] }
