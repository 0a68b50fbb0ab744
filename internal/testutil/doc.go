// Package testutil holds the few helpers that tests of many packages
// share, so that each is written once: Home, a throw-away user home with
// the environment that points alilogin at it, Eventually/WaitFor, the
// one way a test waits for a condition (never a fixed sleep), and
// ShortTempDir, a directory with a short path other uids may cross. It is
// imported by _test.go files only, and imports no package of alilogin,
// so any package's tests may use it.
//
// Its own test, TestDocsCiteExistingTests, checks that every test name
// docs/ and README.md cite (docs/security.md names the test of each
// promise) is a test of the tree.
package testutil
