// Package buildinfo says which build of alilogin or broker is running:
// version, commit, build date and Go version, for `alilogin version`,
// `broker version` and their --version flag.
//
// A release build (tools/release) sets the version, commit and date with
// -ldflags -X, because it builds with -buildvcs=false (reproducible, and
// the same in a tarball as in a clone). Any other build falls back to what
// the Go toolchain recorded: the module version for `go install ...@vX.Y.Z`,
// the vcs.* settings for a `go build` in a git checkout.
package buildinfo
