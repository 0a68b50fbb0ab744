# The two commands of README.md: `make demo` and `make test`.
# Both install what is missing (Debian packages, the stack's servers) first.
SHELL := /bin/bash
GO ?= go
APT_PACKAGES := chromium gnome-keyring dbus dbus-x11 fish zsh tmux rpm man-db bash-completion systemd
TEST_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: deps stack build vet test demo bench fmt-check tidy-check
.PHONY: release release-check

# Installs the Debian packages the end-to-end tests need, when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root or install:$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Builds Vault, Nomad, Consul and Hydra from tools/stack/* (cached).
stack:
	@t0=$$(date +%s); tools/stack/build.sh >/dev/null; echo "stack build: $$(( $$(date +%s) - t0 ))s"

build:
	$(GO) build -o bin/ ./cmd/...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l cmd internal bench tools 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go.mod and go.sum say exactly what the code imports.
tidy-check:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy" >&2; $(GO) mod tidy -diff; exit 1; }

FUZZ_TIME ?= 15s

# tools/test.sh: go test -race ./... through tools/testreport (the usual
# output of go test, then the list of every skipped test with its reason),
# the release check and the fuzz targets; cmd/alilogin/e2e, the longest and
# mostly waiting, runs in the background meanwhile and is reported at the
# end. The exit code is 1 when any of them failed.
test: deps stack vet fmt-check tidy-check
	@GO='$(GO)' TEST_FLAGS='$(TEST_FLAGS)' FUZZ_TIME='$(FUZZ_TIME)' tools/test.sh

# Binaries for five platforms, deb and RPM packages, SHA256SUMS: dist/
# (tools/release; README.md "Install"). VERSION=vX.Y.Z builds that
# release: only on a clean tree with the tag vX.Y.Z at HEAD.
release:
	@t0=$$(date +%s); cd tools/release && $(GO) run . -repo ../.. -out ../../dist $(if $(VERSION),-version $(VERSION)); rc=$$?; echo "release: $$(( $$(date +%s) - t0 ))s"; exit $$rc

# The release checked as a user meets it: checksums, a second build gives
# the same bytes, the debs install with dpkg -i and work (version, man,
# completion) and dpkg -r removes them, the RPMs' metadata. Needs root.
release-check: deps
	@cd tools/release && out=$$(gofmt -l .) && if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	@cd tools/release && $(GO) vet . && { $(GO) mod tidy -diff >/dev/null || { echo "tools/release/go.mod is not tidy" >&2; exit 1; }; }
	@t0=$$(date +%s); cd tools/release && $(GO) test -count=1 -timeout 30m .; rc=$$?; echo "release check: $$(( $$(date +%s) - t0 ))s"; exit $$rc

demo: deps stack
	$(GO) run ./internal/teststack/cmd/demo
