// Command agentbench measures `alilogin agent` on the real test stack
// (see bench/README.md), side by side in one run, through the agent and
// direct (the real token and the client certificate given to the client):
//
//	A1  added latency of a small Nomad GET (GET /v1/jobs), 1000 calls each,
//	    interleaved, p50 and p99 (target: +0.3 ms, +2 ms);
//	A2  whole-process wall time of the real `nomad job status JOB`, median
//	    of -runs runs each, interleaved (target: ratio <= 1.05);
//	A3  streaming: the real `nomad alloc logs` of a -logmib MiB log, median
//	    throughput of -streams runs each, interleaved (target: ratio >= 0.9);
//	A4  -blocking concurrent Consul blocking queries held through the agent
//	    (target: all answered, no error) and the agent's RSS while they are
//	    held (VmRSS, VmHWM; target: <= 40 MiB); then more requests than the
//	    agent's own cap: the rest get the agent's 429.
//
// Nomad and Consul serve over TLS and require client certificates from
// Vault's PKI, as in the agent's e2e tests. It builds alilogin, starts the
// stack with internal/teststack and needs its server binaries (make stack).
package main
