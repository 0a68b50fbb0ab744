// Command tokenbench measures alilogin's token path on the real test stack
// (see bench/README.md):
//
//	P1  whole-process wall time of `alilogin token --for nomad` on a valid
//	    cached token, against `vault print token` (the official CLI's own
//	    cached-token path), median of -runs runs each, interleaved; also
//	    `alilogin status --short` (a prompt segment) on the same record;
//	P2  1000 `token` calls within the TTL mint exactly one Nomad token, and
//	    50 concurrent calls on an expired cache make exactly one refresh;
//	P3  non-interactive re-login (refresh token -> Vault login -> Nomad and
//	    Consul creds in parallel) against the same steps with the vault CLI.
//
// It builds alilogin, starts the stack with internal/teststack and needs
// its server binaries (make stack).
package main
