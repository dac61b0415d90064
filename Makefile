# Hehuo build and run targets. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN := bin/hehuo
# Go test flags: at most two test binaries at a time (two cores, one Postgres).
TEST_FLAGS ?= -count=1 -p 2 -timeout 25m
# Packages to vet/test/bench, e.g. make test PKGS=./internal/config/
PKGS ?= ./...
BENCH ?= .
BENCHTIME ?= 1x

# Browser tests find Debian's Chromium through HEHUO_CHROMIUM; CI is passed through as is.
HEHUO_CHROMIUM ?= /usr/bin/chromium
export HEHUO_CHROMIUM
ifdef CI
export CI
endif

# Shell snippets run inside recipes: set $$pkgs to this module's Go packages,
# without anything npm put under node_modules (some npm packages ship .go
# files), and $$files to the Go files gofmt looks at.
SET_PKGS = pkgs=$$($(GO) list $(PKGS) | grep -v /node_modules/)
SET_FILES = files=$$(find . \( -name .git -o -name node_modules -o -name dist -o -path ./bin \) -prune -o -name '*.go' -type f -print)

.PHONY: help build go-build web demo test bench vet fmt fmt-check tidy-check services chromium clean

help: ## List the targets
	@echo "Hehuo make targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

build: web go-build ## Build the front end, then bin/hehuo

go-build: ## Build bin/hehuo only (version from git describe)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hehuo

web: ## Build microapp/web/dist if it is missing or stale
	bash scripts/web.sh

services: ## Make sure local Postgres and Redis are running
	bash scripts/services.sh

chromium: ## Install Debian's Chromium if missing, print its path
	bash scripts/chromium.sh

demo: ## Start Postgres/Redis, build, run `hehuo demo` with configs/demo.yaml
	bash scripts/services.sh
	bash scripts/services.sh createdb hehuo_demo
	bash scripts/pdf.sh >/dev/null
	$(MAKE) --no-print-directory build
	HEHUO_CONFIG=configs/demo.yaml ./$(BIN) demo

test: ## Services, Chromium, PDF font and pdftotext, front end, Node SDKs, gofmt, go vet, go test (what CI runs)
	bash scripts/services.sh
	bash scripts/chromium.sh >/dev/null
	bash scripts/pdf.sh >/dev/null
	bash scripts/web.sh
	bash scripts/conformance.sh
	$(MAKE) --no-print-directory fmt-check
	$(MAKE) --no-print-directory tidy-check
	$(MAKE) --no-print-directory vet
	$(SET_PKGS); $(GO) test $(TEST_FLAGS) $$pkgs

bench: ## Run benchmarks once each (BENCH=regex, BENCHTIME=1x); reports, never fails
	bash scripts/services.sh
	$(SET_PKGS); $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem -count=1 -p 1 $$pkgs \
		|| echo "bench: some benchmarks failed (not gating)"

vet: ## go vet every package
	$(SET_PKGS); $(GO) vet $$pkgs

fmt: ## gofmt -w every Go file
	@$(SET_FILES); if [ -n "$$files" ]; then gofmt -l -w $$files; fi

fmt-check: ## Fail listing Go files gofmt would change
	@$(SET_FILES); unformatted=$$( [ -z "$$files" ] || gofmt -l $$files ); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run make fmt):"; echo "$$unformatted"; exit 1; \
	fi; echo "gofmt: ok"

tidy-check: ## Fail when go.mod/go.sum are not what `go mod tidy` makes (direct deps listed as direct)
	@$(GO) mod tidy -diff || { echo "go.mod: not tidy (run go mod tidy)"; exit 1; }
	@echo "go mod tidy: ok"

clean: ## Remove bin/ and the built front end
	rm -rf bin
	find microapp/web/dist -mindepth 1 ! -name .placeholder -exec rm -rf {} + 2>/dev/null || true
