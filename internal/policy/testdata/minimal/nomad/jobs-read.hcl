namespace "default" { policy = "read" }
