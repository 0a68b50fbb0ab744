package cmdroot

// The exit codes of alilogin and broker: one table for both tools, so
// that a script or a CI job reads a code the same way whichever tool it
// ran. docs/commands.md#exit-codes documents it (TestDocumentedCodes
// keeps the two in step). A code has one meaning in both tools; a tool
// that has no use for a code never exits with it.
const (
	// OK: success; for broker plan, also "changes" without
	// --detailed-exitcode.
	OK = 0
	// Failure is any other failure: the message says what to do.
	Failure = 1
	// Usage: bad flags or arguments; nothing was done. 2 as cobra and
	// most Unix tools have it (not sysexits' 64).
	Usage = 2
	// Partial (alilogin login and logout): some tokens were issued, or
	// revoked, others not; what worked is kept.
	Partial = 3
	// LoginNeeded (alilogin): no usable login; run alilogin login.
	LoginNeeded = 4
	// Changes (broker plan --detailed-exitcode): the plan has changes.
	// Terraform's -detailed-exitcode uses 2, which is the usage code
	// here: a CI job must not read a mistyped flag as "changes".
	Changes = 5
	// NoProfile (broker explain): the given SSO roles get no profile.
	NoProfile = 6
	// Mismatch (alilogin): the stored login was made with another
	// Vault, Nomad, Consul or SSO issuer than the configured one (e.g. a
	// VAULT_ADDR of another Vault): nothing was sent. Not LoginNeeded: a
	// new login would replace, and revoke, the real one; the message
	// says what differs and how to fix it.
	Mismatch = 7
	// NotFound (alilogin exec): the command was not found (as shells
	// have it).
	NotFound = 127
)
