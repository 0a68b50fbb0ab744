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

# go test -json through tools/testreport: the usual output of go test, then
# the list of every skipped test with its reason; the exit code is go
# test's (or the report's, when go test passed).
test: deps stack vet fmt-check tidy-check
	@t0=$$(date +%s); tr=$$(mktemp -d); $(GO) build -o $$tr/testreport ./tools/testreport || exit 1; \
	$(GO) test -json $(TEST_FLAGS) ./... | $$tr/testreport; ps=("$${PIPESTATUS[@]}"); rm -rf $$tr; \
	rc=$${ps[0]}; [ $$rc -ne 0 ] || rc=$${ps[1]}; echo "test phase: $$(( $$(date +%s) - t0 ))s"; exit $$rc
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZ_TIME) ./internal/policy
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./internal/discovery
	$(GO) test -run '^$$' -fuzz '^FuzzIdentityFrom$$' -fuzztime $(FUZZ_TIME) ./internal/oidc

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

test: release-check

demo: deps stack
	$(GO) run ./internal/teststack/cmd/demo
