// Package envcontract is alilogin's one environment contract with the
// vault, bao, nomad and consul CLIs, defined once: which variables carry
// each server's token, address and TLS settings (what `env`, `exec` and
// the shell hook set), and which inherited variables would take a token
// elsewhere than the server alilogin checked, or check that server more
// weakly than alilogin did.
//
// Those come in two classes (Rules):
//
//   - Reroute: the address of an agent or a proxy (VAULT_AGENT_ADDR,
//     VAULT_PROXY_ADDR, CONSUL_GRPC_ADDR...), DNS SRV lookups, a switched
//     off or replaced certificate check (*_SKIP_VERIFY,
//     CONSUL_HTTP_SSL_VERIFY, *_CAPATH, VAULT_CACERT_BYTES, SSL_CERT_FILE
//     and SSL_CERT_DIR where Go honours them), a token file read instead
//     of the token variable, and every BAO_* variable (OpenBao's bao CLI
//     reads BAO_X before VAULT_X, even when BAO_X is empty). `exec`
//     removes them from its child, `env` and the hook unset them, the
//     token helper refuses a client that has one (Clear, Reroutes).
//   - Proxy: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY in both cases.
//     git, curl and every other program need them: they are never unset,
//     but exec's child gets the servers' hosts added to NO_PROXY and
//     no_proxy (NoProxy), and the token helper refuses a client whose
//     proxy would carry the token (ProxyFor).
//
// The lists come from the CLIs' own sources: hashicorp/vault api v1.9
// (the vault 1.13 CLI's) ReadEnvironment, openbao api ReadBaoVariable,
// nomad api DefaultConfig (1.6), consul api DefaultConfig (1.16), and Go's
// crypto/x509 (root_unix.go) and net/http (ProxyFromEnvironment).
//
// The Handout (handout.go) is what a program is given: a profile's
// servers (Endpoint: kind, token, address, TLS settings), from a login
// (FromRecord) or stand-ins (a local proxy's addresses and the tokens it
// accepts: Plain), turned into variables by the one contract: Vars (env
// prints them, the hook applies them) and Child (exec's child: stale
// tokens out, NO_PROXY, ExecMarker). Apply sets variables over an
// environment (exec --secret's).
//
// GODEBUG=http2debug=1 or 2 makes any Go CLI print its HTTP/2 headers
// (X-Vault-Token) and frames: StripDebug takes it out of a child's
// GODEBUG and keeps the other settings.
package envcontract
