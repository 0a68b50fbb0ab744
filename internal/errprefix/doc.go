// Package errprefix finds an error message that repeats its own prefix,
// as "could not renew the Vault token: could not renew the Vault token:
// ..." does when a caller wraps an adapter's error with the words the
// adapter already said. The rule of alilogin's and the broker's messages
// is `could not <verb> <thing>: %w` said once per step (docs/style): the
// adapter that translates a server's error says what failed, and a
// caller adds only what it knows better. Tests use Repeated on every
// error text they see (cmd/alilogin/e2e checks the stderr of every
// alilogin it runs); no production code imports it.
//
// It is not an error package for production code: nothing outside tests may
// import it.
package errprefix
