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

.PHONY: run build test deps deps-apt deps-go lint vet fmt-check bench clean sdk sdk-check

## run: build the binary and serve the demo on the embedded default (SQLite + local files)
run: build
	./$(BIN) serve --demo

## build: build bin/veil (pure Go, CGO_ENABLED=0; profile-guided, see docs/performance.md)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -pgo=cmd/veil/veil.pgo -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/veil

## test: install missing test components, check formatting and vet, run every test
test: deps fmt-check vet lint sdk-check
	CI=$${CI:-} $(GO) test -count=1 -timeout 30m ./...

## deps: install what the tests start: PostgreSQL (Debian) and versitygw (S3)
deps: deps-apt deps-go

deps-apt:
	@if ! [ -x "$$(pg_config --bindir 2>/dev/null)/pg_ctl" ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		echo "installing postgresql from Debian"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; \
	fi
	@if ! [ -x /usr/bin/chromium ]; then \
		echo "installing chromium from Debian (browser SDK tests)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; \
	fi

deps-go: $(VERSITYGW) test/segment-node/node_modules sdk/node_modules
	$(GO) mod download

# Segment's own Node library, for the compatibility test (pinned by package-lock.json).
test/segment-node/node_modules: test/segment-node/package-lock.json
	cd test/segment-node && npm ci --no-audit --no-fund
	touch $@

# The browser SDK's build and test tools (esbuild, typescript, playwright-core), pinned by package-lock.json.
sdk/node_modules: sdk/package-lock.json
	cd sdk && npm ci --no-audit --no-fund
	touch $@

## sdk: rebuild the browser SDK bundle (sdk/dist) and the player bundle (internal/web/static/player.*) from the lock file
sdk:
	cd sdk && npm ci --no-audit --no-fund && npx tsc -p . && node build.mjs
	sdk/node_modules/.bin/tsc -p player && node player/build.mjs
	@gzip -9 -c sdk/dist/veil.js | wc -c | xargs echo "sdk/dist/veil.js gzip -9 bytes:"

## sdk-check: type-check the SDK and the player; check that sdk/dist and the player bundle are what the lock file builds
sdk-check: sdk/node_modules
	cd sdk && npx tsc -p .
	@tmp=$$(mktemp -d) && (cd sdk && node build.mjs --out $$tmp) && diff -r $$tmp sdk/dist && rm -rf $$tmp && echo "sdk/dist is reproducible"
	sdk/node_modules/.bin/tsc -p player
	@tmp=$$(mktemp -d) && node player/build.mjs --out $$tmp && for f in player.js player.css; do cmp $$tmp/$$f internal/web/static/$$f || { echo "internal/web/static/$$f is stale: run node player/build.mjs"; exit 1; }; done && rm -rf $$tmp && echo "the player bundle is reproducible"

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
