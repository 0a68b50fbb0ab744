key_prefix "" { policy = "read" }
