// Package applybench measures `broker apply` and `broker plan` at scale
// against the real servers of internal/teststack: 1000 generated profiles,
// each with its own Vault, Nomad and Consul policy (7000 objects in all,
// plus identity groups).
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/apply
//
// reports, per benchmark, the time and the write calls (counted at the HTTP
// transport, not by the code under test). The targets: apply from empty
// within 60 s; a no-change apply within 10 s with 0 writes. Without -bench
// the package only checks that the generated files are valid, without
// starting servers.
package applybench
