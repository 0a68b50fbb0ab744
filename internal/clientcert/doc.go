// Package clientcert gives a login a short-lived TLS client certificate
// from Vault's PKI secrets engine, for mTLS to Nomad and Consul in place of
// the year-long grid certificate.
//
// The key is made here (EC P-256) and never leaves the machine: Vault gets
// a CSR at <pki mount>/sign/<profile> and binds its name to the caller's
// SSO identity (the broker's PKI role allows only the caller's own JWT
// alias name). The key lives in memory as a secret.String, on disk only in
// a private directory (Dir: 0700, files 0600, written atomically) that the
// vault, nomad and consul CLIs read, and is removed with the login
// (RemoveFiles). Revocation proves possession of the key
// (<mount>/revoke-with-key, Vault 1.12 and later), so the profile's policy
// needs no right to revoke other certificates.
package clientcert
