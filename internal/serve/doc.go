// Package serve is `broker serve`: a long-running broker that keeps Vault,
// Nomad and Consul matched to the policies/ folder, reaps orphaned tokens,
// and serves /healthz, /readyz, /metrics and /v1/discovery.
//
// The parts, one file each:
//
//   - config.go, server.go: the last good configuration. The folder is
//     re-read on SIGHUP and when its content changes (polled, so no inotify
//     is needed inside containers; a change is loaded once two polls agree,
//     and dropped if the folder changed while it was read: never
//     half-written); an invalid folder never replaces a good one, it is
//     only reported (logs, metrics, /readyz).
//   - fingerprint.go: what a poll looks at, exactly the files policy.Load
//     reads, never opening one that is no regular file.
//   - loop.go: the reconcile loop, run only by the leader (internal/leader),
//     every interval and right after a new configuration loads, followed by
//     a reaper pass for the profiles of the configuration last applied in
//     full.
//   - http.go: the endpoints. The discovery document is rendered once per
//     configuration, so serving it costs a map lookup and a write.
//   - metrics.go: Prometheus metrics on the server's own registry.
//
// The work itself is behind small interfaces (Reconciler, TokenReaper,
// Elector, Prober) declared here, so that the loop is tested apart from the
// servers and the command wires the real ones.
package serve
