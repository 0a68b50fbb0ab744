// Package kvsecret reads build secrets from Vault KV at the moment a
// command needs them (`alilogin exec --secret`, `--secret-file`): the
// path is written as for `vault kv get` (secret/ci/github, without
// data/), the mount and its KV version (1 or 2) are found the way the
// vault CLI finds them (sys/internal/ui/mounts/<path>), several secrets
// are read in parallel, and a value only ever travels as a secret.String
// into the child's environment or a private file (files.go) that is
// removed when the command ends. Errors name the path, the field and the
// profile, never the value.
package kvsecret
