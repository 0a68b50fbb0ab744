// Command testreport reads the output of `go test -json` on stdin and
// writes what `go test` writes without -json — each package's ok or FAIL
// line, the output of failing tests and of failing packages, build errors
// (to stderr) — and at the end the list of every skipped test with its
// reason, so that a skip is never silent. It exits 1 when a build, a
// package or a test failed, or when a package's results never came.
//
//	set -o pipefail; go test -json ./... | go run ./tools/testreport
package main
