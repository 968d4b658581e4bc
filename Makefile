# mynahil — see README.md. The two commands a newcomer needs:
#   make demo   run the scenario suites against the embedded simulated card
#   make test   run every test: unit, fuzz seeds, suites in-process and through real pcscd
SHELL := /bin/bash
GO ?= go
GINKGO := $(GO) tool ginkgo
DEBS := pcscd libpcsclite-dev vsmartcard-vpcd opensc pcsc-tools
REPORTS ?= reports
# with-pcscd starts a private pcscd (never --auto-exit) for the command, or
# reuses one that serves the vpcd readers, and stops what it started; in CI a
# missing pcscd fails the run.
WITH_PCSCD := scripts/with-pcscd

.PHONY: all deps build demo test unit suites vet bench bench-pcscd interop readers conformance-report conformance-reader conformance-faults fuzz sim sim-pcscd clean

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
	$(GO) build -ldflags "-X github.com/mynahil/mynahil/conformance.commit=$$(git rev-parse HEAD 2>/dev/null || echo unknown)" -o bin/mynahil ./cmd/mynahil

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# demo: the scenario suites against the embedded simulated card, with Ginkgo's
# progress and summary, and the ten-year timeline of the lifecycle suite.
demo: deps
	MYNAHIL_TARGET=sim $(GINKGO) ./scenarios/...

# unit runs every package's tests (fuzz targets run their seed corpora); the
# PC/SC ones (interop, bench, harness/pcsc, target, simd, conformance) go
# through the private pcscd.
unit:
	$(WITH_PCSCD) $(GO) test -count=1 ./...

# suites runs the scenario suites in process, over the real vpcd wire format
# (no pcscd) and through real pcscd + vpcd; specs that need the office skip
# on the last two with the reason.
# JUnit and Ginkgo JSON reports land in $(REPORTS)/scenarios-<target>.{xml,json}.
SUITE_REPORTS = --output-dir=$(REPORTS) --junit-report=scenarios-$(1).xml --json-report=scenarios-$(1).json
suites:
	MYNAHIL_TARGET=sim $(GINKGO) $(call SUITE_REPORTS,sim) ./scenarios/...
	MYNAHIL_TARGET=vpcd $(GINKGO) $(call SUITE_REPORTS,vpcd) ./scenarios/...
	MYNAHIL_TARGET=pcsc $(WITH_PCSCD) $(GINKGO) $(call SUITE_REPORTS,pcsc) ./scenarios/...

test: deps vet unit suites
	@echo "all tests passed"

# interop: OpenSC's JPKI driver and pcsc-tools against the simulated card.
interop: deps
	$(WITH_PCSCD) $(GINKGO) -v ./interop

# bench-pcscd: a short APDU through pcscd, simulated card against vpcd.EchoCard
# in the same run, plus OpenSC's wall times.
bench-pcscd: deps
	$(WITH_PCSCD) $(GO) test -count=1 -v -run '^TestRoundTrip$$' ./bench

readers: build
	bin/mynahil readers -fingerprint

# conformance-report: the reader conformance suite against the virtual reader
# with the simulated card (private pcscd); report.html, report.json,
# junit.xml and ginkgo-report.json in $(REPORTS)/conformance (docs/conformance.md).
# FAULT=<profile> serves the card through a broken reader instead. It stops
# with "could not run" (exit 3) while another process serves the vpcd slots.
conformance-report: build
	$(WITH_PCSCD) bin/mynahil conformance --sim $(if $(FAULT),--fault $(FAULT)) --report $(REPORTS)/conformance$(if $(FAULT),-$(FAULT))

# conformance-reader: the suite against your reader:
#   make conformance-reader READER="…" [INTERACTIVE=1]
# PINs only from MYNAHIL_AUTH_PIN / MYNAHIL_SIGN_PIN in the environment.
conformance-reader: build
	bin/mynahil conformance --reader "$(READER)" $(if $(INTERACTIVE),--interactive) --report $(REPORTS)/conformance-reader

# conformance-faults: every fault profile against the suite, about 3 minutes
# (also part of make test).
conformance-faults: deps
	$(WITH_PCSCD) $(GINKGO) --label-filter=fault-matrix --output-dir=$(REPORTS) --junit-report=conformance-faults.xml ./conformance

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./simcard/ ./simcard/authority/ ./harness/... ./vpcd/

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
