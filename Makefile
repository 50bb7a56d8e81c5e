# Veil — `make run` builds and serves the demo; `make test` installs what the
# tests need (Debian's PostgreSQL, the versitygw S3 server) and runs them all.
SHELL := /bin/bash
GO ?= go
BIN := bin/veil
VERSITYGW := .ci/bin/versitygw
VERSITYGW_VERSION := v1.8.0
STATICCHECK_VERSION := v0.8.2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test deps deps-apt deps-go lint vet fmt-check bench clean

## run: build the binary and serve the demo on the embedded default (SQLite + local files)
run: build
	./$(BIN) serve --demo

## build: build bin/veil (pure Go, CGO_ENABLED=0)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/veil

## test: install missing test components, check formatting and vet, run every test
test: deps fmt-check vet lint
	CI=$${CI:-} $(GO) test -count=1 -timeout 30m ./...

## deps: install what the tests start: PostgreSQL (Debian) and versitygw (S3)
deps: deps-apt deps-go

deps-apt:
	@if ! [ -x "$$(pg_config --bindir 2>/dev/null)/pg_ctl" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		echo "installing postgresql from Debian"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi

deps-go: $(VERSITYGW) test/segment-node/node_modules
	$(GO) mod download

# Segment's own Node library, for the compatibility test (pinned by package-lock.json).
test/segment-node/node_modules: test/segment-node/package-lock.json
	cd test/segment-node && npm ci --no-audit --no-fund
	touch $@

$(VERSITYGW):
	@echo "building versitygw $(VERSITYGW_VERSION) (S3-compatible test server; a few minutes the first time)"
	mkdir -p .ci/bin
	GOBIN="$(CURDIR)/.ci/bin" $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

## bench: run the Go benchmarks (figures go in the closing notes, never in asserts)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/keyring/ ./internal/store/ ./internal/scrub/

clean:
	rm -rf bin
