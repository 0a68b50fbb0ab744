#!/usr/bin/env bash
# Builds the test-stack servers (Vault, Nomad, Consul, Ory Hydra) from the
# pinned tool modules under tools/stack/<server>/ into a cache directory
# outside the work tree, so that fresh clones on the same machine reuse them.
#
# A server is rebuilt only when its tool module's go.mod or go.sum or its
# build tags change: the cache key is a hash of the three. Nomad is built
# with its `ui` tag (the web UI's assets are in the v1.6.1 module), so that
# `alilogin ui nomad` has a UI to show; Consul embeds its UI always.
#
# Usage: tools/stack/build.sh [server...]   (default: all four)
# Prints the bin directory on the last line of stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${ALILOGIN_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alilogin-stack}
bin="$cache/bin"
mkdir -p "$bin"

servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(vault nomad consul hydra)

pkg_of() {
	case "$1" in
	vault) echo github.com/hashicorp/vault ;;
	nomad) echo github.com/hashicorp/nomad ;;
	consul) echo github.com/hashicorp/consul ;;
	hydra) echo github.com/ory/hydra/v2 ;;
	*) echo "unknown server: $1" >&2; return 2 ;;
	esac
}

tags_of() {
	case "$1" in
	hydra) echo sqlite,sqlite_omit_load_extension,json1 ;;
	nomad) echo ui ;;
	*) echo "" ;;
	esac
}

key_of() {
	{
		cat "$here/$1/go.mod" "$here/$1/go.sum"
		[ -z "$(tags_of "$1")" ] || echo "tags=$(tags_of "$1")"
	} | sha256sum | cut -c1-16
}

log() { printf '[stack-build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

todo=()
for s in "${servers[@]}"; do
	pkg_of "$s" >/dev/null
	if [ -x "$bin/$s" ] && [ "$(cat "$bin/$s.key" 2>/dev/null)" = "$(key_of "$s")" ]; then
		log "$s: cached ($bin/$s)"
	else
		todo+=("$s")
	fi
done

if [ ${#todo[@]} -gt 0 ]; then
	# Downloads are network-bound: fetch all modules at once, then compile one
	# server at a time (compiling is CPU-bound; go build already uses every core).
	start=$(date +%s)
	pids=()
	for s in "${todo[@]}"; do
		log "$s: downloading modules"
		(cd "$here/$s" && go mod download -x 2>"$cache/$s.download.log") &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		if ! wait "${pids[$i]}"; then
			log "${todo[$i]}: module download failed; see $cache/${todo[$i]}.download.log"
			tail -20 "$cache/${todo[$i]}.download.log" >&2
			exit 1
		fi
	done
	log "modules downloaded in $(($(date +%s) - start))s"
	for s in "${todo[@]}"; do
		t0=$(date +%s)
		log "$s: building $(pkg_of "$s")"
		tags=()
		[ -z "$(tags_of "$s")" ] || tags=(-tags "$(tags_of "$s")")
		if ! (cd "$here/$s" && CGO_ENABLED=1 go build -trimpath "${tags[@]}" -o "$bin/$s.tmp" "$(pkg_of "$s")"); then
			log "$s: build failed"
			exit 1
		fi
		mv "$bin/$s.tmp" "$bin/$s"
		key_of "$s" >"$bin/$s.key"
		log "$s: built in $(($(date +%s) - t0))s"
	done
	log "all built in $(($(date +%s) - start))s"
fi
echo "$bin"
