// Package apply makes Vault, Nomad and Consul match a *policy.Config: it
// reads the live objects (with bounded concurrency) and has plan.Owner
// judge whose each is, asks internal/plan for the difference, and writes
// the changes step by step as plan.Steps orders them (Nomad and
// Consul ACL policies, Vault policies, Vault secrets-engine roles, then the
// JWT auth config, JWT roles and identity groups; deletes in reverse).
//
// Run is used by `broker plan` (DryRun), `broker apply` and the reconcile
// loop of `broker serve`. It makes no write call when nothing differs, and
// because every object is written whole and ownership is recorded before
// the objects that depend on it, an apply cut short at any point converges
// on the next run. A pruning plan that the mass-delete guard
// (plan.Guard) refuses is not carried out unless Options.AllowMassDelete
// (MassDeleteError).
//
// The calls to each system live in vault.go, nomad.go and consul.go; they
// use internal/apiclient and nothing else.
package apply
