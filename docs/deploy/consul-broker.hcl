# Consul ACL policy "alilogin-broker": what `broker serve` needs in Consul.
# Give it to the broker through a Vault consul role
# (consul/roles/alilogin-broker with consul_policies = alilogin-broker),
# read by --consul-token-from-vault. Tested by internal/serve/e2e TestJobSpec.
#
# acl = "write" is what managing ACL policies and deleting orphaned tokens
# takes in Consul; there is no narrower grant. It can mint any token, so
# treat the broker's token as a management token: short-lived, from Vault.

# ACL policies (apply) and tokens (list, read, delete: the reaper).
acl = "write"

# The leader lock: a KV key held by a session.
key_prefix "alilogin/broker/" {
  policy = "write"
}

# Sessions are made on the node of the local agent the broker talks to.
session_prefix "" {
  policy = "write"
}

# Each instance's liveness check (a service of its own with a 4s TTL
# check), to which its session is bound: a dead leader is replaced within
# seconds. Without this grant the broker falls back to the session TTL
# (up to 20s).
service_prefix "alilogin-broker-lock" {
  policy = "write"
}
