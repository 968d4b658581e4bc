# mynahil — see README.md. The two commands a newcomer needs:
#   make demo   run the scenario suites against the embedded simulated card
#   make test   run every test: unit, fuzz seeds, suites in-process and through real pcscd
SHELL := /bin/bash
GO ?= go
GINKGO := $(GO) tool ginkgo
DEBS := pcscd libpcsclite-dev vsmartcard-vpcd opensc pcsc-tools
REPORTS ?= reports

.PHONY: all deps build demo test unit suites pcsc-suites vet bench fuzz sim sim-pcscd clean

all: build

# deps installs the Debian packages the PC/SC side needs (when missing) and the
# Go modules. apt-get runs only when a package is absent.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

build: deps
	$(GO) build -o bin/mynahil ./cmd/mynahil

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# demo: the scenario suites against the embedded simulated card, with Ginkgo's
# progress and summary.
demo: deps
	MYNAHIL_TARGET=sim $(GINKGO) -v --no-color=false ./scenarios/...

# unit runs every package's tests in-process (fuzz targets run their seed corpus).
unit:
	$(GO) test -count=1 ./...

test: deps vet unit
	@echo "all tests passed"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./simcard/ ./vpcd/

# fuzz runs every fuzz target of the tree for FUZZTIME each (make test runs
# their seed corpora only).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

# sim runs the simulated card daemon against this machine's pcscd (bin/mynahil sim --help).
sim: build
	bin/mynahil sim $(SIMFLAGS)

# sim-pcscd runs it with a private pcscd that stops with it.
sim-pcscd: build
	scripts/with-pcscd bin/mynahil sim $(SIMFLAGS)

clean:
	rm -rf bin $(REPORTS)
