// Package testutil holds the few helpers that tests of many packages
// share, so that each is written once: Home, a throw-away user home with
// the environment that points alilogin at it, ShortTempDir, a directory
// whose path is short enough for a unix socket and that other uids may cross, FencedBlocks, the fenced
// blocks of a Markdown file with their runnable markers (the examples
// the docs' tests run), and Eventually/WaitFor, the one way a test waits
// for a condition (never a fixed sleep). It is
// imported by _test.go files only, and imports no package of alilogin,
// so any package's tests may use it.
//
// Its own test, TestDocsCiteExistingTests, checks that every test name
// docs/ and README.md cite (docs/security.md names the test of each
// promise) is a test of the tree.
package testutil
