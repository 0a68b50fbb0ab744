# The two commands of README.md: `make demo` and `make test`.
# Both install what is missing (Debian packages, the stack's servers) first.
SHELL := /bin/bash
GO ?= go
APT_PACKAGES := chromium gnome-keyring dbus dbus-x11 fish zsh tmux
TEST_FLAGS ?= -race -count=1 -timeout 30m

.PHONY: deps stack build vet test demo bench fmt-check tidy-check

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
	@out=$$(gofmt -l cmd internal bench 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go.mod and go.sum say exactly what the code imports.
tidy-check:
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run go mod tidy" >&2; $(GO) mod tidy -diff; exit 1; }

FUZZ_TIME ?= 15s

test: deps stack vet fmt-check tidy-check
	@t0=$$(date +%s); $(GO) test $(TEST_FLAGS) ./...; rc=$$?; echo "test phase: $$(( $$(date +%s) - t0 ))s"; exit $$rc
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZ_TIME) ./internal/policy
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./internal/discovery
	$(GO) test -run '^$$' -fuzz '^FuzzIdentityFrom$$' -fuzztime $(FUZZ_TIME) ./internal/oidc

demo: deps stack
	$(GO) run ./internal/teststack/cmd/demo
