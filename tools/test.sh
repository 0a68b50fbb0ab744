#!/usr/bin/env bash
# make test's test phase (after deps, stack, vet and the format and tidy
# checks): go test -race over the whole tree, the release check and the
# fuzz targets, each through its own exit code.
#
# The end-to-end tests of cmd/alilogin/e2e take most of the time, and most
# of that waiting on the servers and the clock (tokens expiring), with the
# CPU idle: they start first, in the background, and everything else runs
# meanwhile. Their output is kept in a file and reported when they end, so
# that two packages' lines never interleave.
set -uo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
read -r -a flags <<<"${TEST_FLAGS:--race -count=1 -timeout 30m}"
fuzz=${FUZZ_TIME:-15s}
long=github.com/alisw/alilogin/cmd/alilogin/e2e

t0=$(date +%s)
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
$GO build -o "$tmp/testreport" ./tools/testreport || exit 1

# -parallel 4: its few parallel tests (most wait on the clock) all at once.
$GO test -json "${flags[@]}" -parallel 4 "$long" >"$tmp/long.json" 2>&1 &
pid=$!

rc=0
mapfile -t rest < <($GO list ./... | grep -vx "$long")
$GO test -json "${flags[@]}" "${rest[@]}" | "$tmp/testreport" || rc=1
echo "tests of the other packages: $(($(date +%s) - t0))s"

# The release check and the fuzzers only compute (no test of theirs
# times anything): they take the CPU the end-to-end tests leave idle, at
# the lowest priority, so as not to slow the longest part.
nice -n 19 make --no-print-directory release-check || rc=1

nice -n 19 $GO test -run '^$' -fuzz '^FuzzLoad$' -fuzztime "$fuzz" ./internal/policy || rc=1
nice -n 19 $GO test -run '^$' -fuzz '^FuzzParse$' -fuzztime "$fuzz" ./internal/config || rc=1
nice -n 19 $GO test -run '^$' -fuzz '^FuzzParse$' -fuzztime "$fuzz" ./internal/discovery || rc=1
nice -n 19 $GO test -run '^$' -fuzz '^FuzzIdentityFrom$' -fuzztime "$fuzz" ./internal/oidc || rc=1

wait "$pid"
long_rc=$?
pid=""
"$tmp/testreport" <"$tmp/long.json" || rc=1
[ "$long_rc" -eq 0 ] || rc=1
echo "test phase: $(($(date +%s) - t0))s"
exit "$rc"
