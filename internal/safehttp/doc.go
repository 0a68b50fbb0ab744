// Package safehttp holds the two rules that every HTTP client of alilogin
// and the broker follows, in one place:
//
//   - A redirect is followed only within the origin (scheme, host and port)
//     of the request that got it. Go's http.Client re-sends custom headers
//     such as X-Vault-Token to any host it is redirected to, keeps even
//     Authorization on another port of the same host, and re-sends the body
//     on 307 and 308; a server at the configured address could so move a
//     token, a JWT login body or a refresh token elsewhere, or from https to
//     plain http. Vault standbys forward requests to the active node instead
//     of redirecting by default, so a redirect to another origin means a
//     misconfiguration or an attack: it is an error that names both
//     addresses (RedirectError).
//   - An answer is read up to a bound, and an answer over it is an error
//     (TooLargeError), never a silent cut and never an unbounded read: a
//     400 MiB discovery document must not grow the process to 900 MiB.
//   - HTTP/1.1 only (HTTP1): Go's HTTP/2 code prints the headers and
//     frames it sends when GODEBUG says http2debug=1 or 2, read once at
//     start-up from the environment; a token header or a refresh grant
//     would end up on stderr, in a cron job's or a CI system's log.
//
// Vault, Nomad and Consul go through internal/apiclient, which uses
// CheckRedirect, ReadAll and HTTP1; the SSO client and the broker's
// discovery document use NewClient or Harden.
package safehttp
