// Command release builds what `make release` publishes, into dist/:
//
//   - static (CGO_ENABLED=0) alilogin and broker binaries for linux
//     amd64/arm64, darwin amd64/arm64 and windows amd64;
//   - for each linux architecture, an alilogin deb and RPM (binary, man
//     pages, bash/zsh/fish completions) and an alilogin-broker deb and RPM
//     (binary, man pages, completions, the example policies/ and the
//     docs/deploy/ files under /usr/share/doc/alilogin-broker), each with
//     the licence files of every module compiled into its binary;
//   - SHA256SUMS over all of them (the format `sha256sum -c` reads).
//
// Everything is reproducible: the same commit built with the same Go
// release gives the same bytes. The binaries are built with -trimpath and
// -buildvcs=false and none of the builder's Go settings (GOENV=off), the
// version, commit and date go in with -ldflags -X
// (internal/buildinfo), and every timestamp (man page dates, package file
// times, package build time) is the commit time (SOURCE_DATE_EPOCH). The
// test in this directory checks that, and installs the deb.
//
// It is a separate module so that nfpm and its dependencies stay out of
// the product's go.mod.
//
// Usage (from the repository root: make release):
//
//	go run ./tools/release [-repo DIR] [-out DIR] [-version vX.Y.Z] [-targets linux/amd64,...]
package main
