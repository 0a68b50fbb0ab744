// Package tokenhelper is what `alilogin setup --vault-token-helper`
// installs for the vault CLI's token helper protocol: the vault CLI runs
// the program named by `token_helper` in its config file (~/.vault, or
// VAULT_CONFIG_PATH) with one verb, get, store or erase. Vault 1.13's CLI
// takes one absolute path with no arguments there, so a two-line script
// that runs `alilogin vault-token-helper` is written (0700, atomically),
// and the setting is added to the config file with its other settings
// kept. The verbs themselves are in cmd/alilogin (vaulthelper.go), where
// the renewal chain is; `get` asks this package about the program that
// runs it: which one it is (FindClient, from /proc on Linux), whether it
// is served (Identify: the vault and bao CLIs, others opted in with
// token_helper_clients in the config file), and whether its environment and
// command line would send the token elsewhere (Refusal, after the
// environment contract of internal/envcontract).
package tokenhelper
