// Command broker keeps Vault, Nomad and Consul in line with the profiles
// declared in policies/: validate, plan, apply and explain once, or serve
// to keep them matched. See docs/admin-guide.md.
//
// The commands are one file each here (flags, options, printing); reading
// the folder, planning and applying are internal/policy, internal/plan and
// internal/apply, and serve's loop is internal/serve.
package main
