// Package termtext makes text from servers safe to print on a terminal.
//
// Every string that alilogin or the broker did not write itself (an SSO's
// error_description, a device flow's verification URI and user code, a
// Vault/Nomad/Consul error body, the user and role claims of an ID token, a
// broker's discovery document) passes through Clean before it reaches
// stderr, stdout or a log line. A server could otherwise change the
// terminal's title, clear the screen, move the cursor to overwrite an
// earlier line, or hide text with bidirectional overrides.
//
// It is not an escaper for shells or JSON documents in general:
// internal/shellenv quotes for shells; EscapeJSON is only for server text
// put into JSON output.
package termtext
