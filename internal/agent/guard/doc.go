// Package guard holds the agent's request rules (issue 21 items 4 and 6):
// pure functions, no network, no state, that the agent's reverse proxy
// calls for each request it would forward with a profile's real token.
//
//	d := guard.Check(store.Nomad, r, guard.Rules{ReadOnly: true, ReadOnlyHint: "run: alilogin elevate --profile ci"})
//	if d.Refuse != "" { http.Error(w, d.Refuse, d.Status()); return }
//	// forward; in ReverseProxy.ModifyResponse: return d.RewriteResponse(resp)
//
// Check decides on the path the server will act on (canonicalPath:
// decoded once, as Vault, Nomad and Consul decode it, and refused when
// anything could make the server and this package read it differently),
// then applies, in order:
//
//   - the secret rules (secrets.go): requests that would hand a real
//     credential back are refused (Nomad one-time tokens, Vault token
//     creation, response wrapping, any engine's creds/:role and any
//     mount's issue and sign writes, matched by shape at any mount since
//     a request does not say which engine a mount is, snapshots...), and those
//     whose answers can carry one are allowed with a Blank: the fields
//     RewriteResponse empties (SecretID in every Nomad and Consul /v1/acl/
//     answer, Vault's auth.client_token, wrap_info.token and a token
//     lookup's data.id). The secret rules hold whatever the Rules say;
//   - the read-only allow-list (readonly.go), when Rules.ReadOnly: a
//     per-server list of (method, path pattern) pairs, since some reads
//     are POST or PUT and some GETs change state (Vault's too: KV version
//     2 reads at any mount, token lookups, a few sys/ reads, and never
//     the minting shapes of vaultMints). Decision.Write tells
//     whether a request is outside that list even when it is allowed:
//     attended elevation (issue 23) counts an elevated gate's uses on it.
//
// Rules come from the admin's agent { read_only } in policies/ (through
// the discovery document) and from the user's config file, which can
// only narrow them (internal/config). The Vault mounts are the
// discovery document's.
//
// Not here: who may talk to the agent (Host, Origin, peer uid, gates) and
// the removal of the client's token headers and Consul's ?token=
// parameter: the agent's own code does that. Where each server takes a
// token from (read in their sources, measured on the stack): Vault 1.13
// X-Vault-Token, else an Authorization value starting "Bearer " (case
// matters: "bearer x" is not read); Nomad 1.6.1 X-Nomad-Token, else
// Authorization with the scheme "Bearer" in any case, never the query
// (?token= is ignored); Consul 1.16.3 ?token= first (deprecated, still
// honoured), else X-Consul-Token, else Authorization "Bearer" in any case. The browser routes of issue
// 22 (UI assets outside /v1/) are refused by Check until they get their
// own rules.
package guard
