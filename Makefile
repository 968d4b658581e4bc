# mynahil — see README.md. The two commands a newcomer needs:
#   make demo   the card's whole life through a private pcscd, then OpenSC reading the card
#   make test   run every test: unit, fuzz seeds, suites in-process and through real pcscd
SHELL := /bin/bash
GO ?= go
GINKGO := $(GO) tool ginkgo
# chromium renders the HTML lifecycle report in its test (lifecyclereport).
DEBS := pcscd libpcsclite-dev vsmartcard-vpcd opensc pcsc-tools chromium
REPORTS ?= reports
# with-pcscd starts a private pcscd (never --auto-exit) for the command, or
# reuses one that serves the vpcd readers, and stops what it started; in CI a
# missing pcscd fails the run.
WITH_PCSCD := scripts/with-pcscd

.PHONY: all help deps build demo test test-busy test-system-pcscd unit unit-main unit-conformance suites suites-sim suites-vpcd suites-pcsc bench-lifecycle vet examples bench bench-pcscd load-pcscd interop readers conformance-report conformance-reader conformance-faults fuzz sim sim-pcscd record compare rehearsal physical-card clean

all: build

# help lists the targets: every target line with a "## " comment.
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 30

# deps installs the Debian packages the PC/SC side needs (when missing) and the
# Go modules. apt-get runs only when a package is absent.
deps: ## install the Debian packages (when missing) and Go modules
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

build: deps ## build bin/mynahil
	$(GO) build -ldflags "-X github.com/mynahil/mynahil/cli.commit=$$(git rev-parse HEAD 2>/dev/null) -X github.com/mynahil/mynahil/conformance.commit=$$(git rev-parse HEAD 2>/dev/null || echo unknown)" -o bin/mynahil ./cmd/mynahil

vet: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# demo: the card's whole life through a private pcscd and vpcd — the
# lifecycle suite on the pcsc target with its ten-year timeline and the
# summary line — then OpenSC's pkcs15-tool reading a card of 'mynahil sim'
# through the same pcscd (scripts/demo; under a minute).
demo: build ## the card's whole life through a private pcscd and vpcd, then OpenSC reading the card
	$(WITH_PCSCD) --isolate -- scripts/demo

# unit runs every package's tests (fuzz targets run their seed corpora); the
# PC/SC ones (interop, bench, harness/pcsc, simd, cmd, ...) go through a
# private pcscd and take turns on its vpcd slots. The conformance package
# (its fault matrix holds the slots for minutes) runs beside them with a
# pcscd and namespaces of its own (as root), so nothing waits for it.
unit: ## every package's tests, PC/SC ones through a private pcscd
	$(MAKE) --no-print-directory -j2 -O unit-main unit-conformance
# harness/pcsc, the PC/SC binding, runs under the race detector: its test of
# many goroutines waiting for reader events at once is what a shared buffer
# or map in the binding would fail (package doc).
RACE_PKGS := ./harness/pcsc
unit-main:
	$(WITH_PCSCD) $(GO) test -count=1 $$($(GO) list ./... | grep -v -e '/conformance$$' -e '/harness/pcsc$$')
	$(WITH_PCSCD) $(GO) test -count=1 -race $(RACE_PKGS)
# The conformance package runs under the race detector too: its PC/SC calls
# outlive their deadlines in goroutines of their own (within), and its waits
# are bound by pcscd, not the CPU, so -race costs it almost nothing.
unit-conformance:
	$(WITH_PCSCD) $(ISOLATE) -- $(GO) test -count=1 -race ./conformance/

# suites runs the scenario suites on the three simulated targets in
# parallel, each with its own pcscd where it needs one (docs/suites.md):
#   sim   in process;
#   vpcd  over the real vpcd wire format (no pcscd), the lifecycle and
#         card-info worlds around the simulator daemon;
#   pcsc  through a private pcscd (with-pcscd --isolate) and vpcd.
# JUnit and Ginkgo JSON reports land in $(REPORTS)/scenarios-<target>.{xml,json},
# lifecycle timelines in $(REPORTS)/timeline-<target>.json; checkreport then
# fails the run unless every lifecycle and card-info spec passed (none
# skipped) on vpcd and pcsc, and unless the three timelines tell the same
# story.
SCENARIOS := ./scenarios/jpki ./scenarios/edges ./scenarios/lifecycle ./scenarios/cardinfo ./scenarios/cardinfoclient ./scenarios/physical ./scenarios/counter
SUITE_REPORTS = --output-dir=$(REPORTS) --junit-report=scenarios-$(1).xml --json-report=scenarios-$(1).json
# Parallel runs share test binaries built once (ginkgo would otherwise build
# each suite into its package directory three times over).
SCENARIO_BINS := $(foreach p,$(SCENARIOS),$(p)/$(notdir $(p)).test)
SUITE_RUN = env MYNAHIL_TARGET=$(1) MYNAHIL_TIMELINE_DIR=$(abspath $(REPORTS)) MYNAHIL_REPORTS=$(abspath $(REPORTS)) $(GINKGO) --no-color $(call SUITE_REPORTS,$(1)) \
	$(if $(SUITES_PREBUILT),$(SCENARIO_BINS),$(SCENARIOS))
suites: ## the scenario suites on sim, vpcd and pcsc in parallel (JUnit, JSON, timelines, HTML)
	$(GINKGO) build $(SCENARIOS)
	status=0; $(MAKE) --no-print-directory -j3 -O SUITES_PREBUILT=1 suites-sim suites-vpcd suites-pcsc || status=$$?; \
		rm -f $(SCENARIO_BINS); exit $$status
	$(GO) run ./scenarios/framework/checkreport -suites lifecycle,cardinfo,cardinfoclient,counter \
		$(REPORTS)/scenarios-vpcd.json $(REPORTS)/scenarios-pcsc.json
	$(GO) run ./scenarios/framework/checkreport -timelines \
		$(REPORTS)/timeline-sim.json $(REPORTS)/timeline-vpcd.json $(REPORTS)/timeline-pcsc.json

suites-sim:
	$(call SUITE_RUN,sim)
suites-vpcd:
	$(call SUITE_RUN,vpcd)
suites-pcsc:
	$(WITH_PCSCD) --isolate -- $(call SUITE_RUN,pcsc)
test-busy: ## make test while four CPU-bound loops keep the machine busy (docs/reliability.md)
	scripts/with-busy-cpus 4 -- $(MAKE) --no-print-directory test

test-system-pcscd: ## make test against pcscd served as Debian's systemd units serve it (socket-activated, --auto-exit), in private namespaces (root)
	scripts/with-system-pcscd -- $(MAKE) --no-print-directory test

suites-daemon: build ## lifecycle and card-info suites on pcsc against a running 'mynahil sim' (MYNAHIL_CONTROL)
	$(WITH_PCSCD) --isolate -- env GO=$(GO) scripts/suites-daemon bin/mynahil $(REPORTS)

# bench-lifecycle: the lifecycle suite's wall time in process and through
# pcscd in one run, with pcscd's removal/insertion detection time, and the
# ratio (bench/lifecycle_test.go).
bench-lifecycle: deps ## the lifecycle suite's wall time in process and through pcscd
	$(WITH_PCSCD) --isolate -- $(GO) test -count=1 -v -run '^TestLifecycleWallTime$$' ./bench

# rehearsal: the physical-card path against the simulated card
# (docs/physical-cards.md): 'mynahil sim' serves it in a vpcd reader of a
# private pcscd (its own namespaces when run as root), the suites select it
# with MYNAHIL_READER as a physical card, with both PINs, the destructive
# opt-in and its fingerprint, the sim's office as the scripted operator and
# its CRL/OCSP endpoints; destructive specs run in a second pass. Fails
# unless every physical-safe, destructive and interactive spec passed, and
# unless at least 60% of all the suites' specs ran on the physical path.
# REHEARSAL_SUITES lists every scenario suite (a test checks it), the
# counter suite last: its loss report gives the card a new auth
# certificate. Reports: $(REPORTS)/rehearsal-{1,2}.json and
# rehearsal-summary.txt.
ISOLATE ?= $(if $(filter 0,$(shell id -u)),--isolate)
REHEARSAL_SUITES ?= ./scenarios/physical ./scenarios/jpki ./scenarios/edges ./scenarios/lifecycle ./scenarios/cardinfo ./scenarios/cardinfoclient ./scenarios/counter
rehearsal: build ## the physical-card path against the simulated card through pcscd
	$(WITH_PCSCD) $(ISOLATE) -- $(GO) run ./scenarios/framework/rehearsal -mynahil bin/mynahil -reports $(REPORTS) $(REHEARSAL_SUITES)

# physical-card: the suites against your physical test card, in two passes
# (docs/physical-cards.md):
#   make physical-card READER="…"   with MYNAHIL_AUTH_PIN, MYNAHIL_SIGN_PIN,
#   MYNAHIL_CARDINFO_PIN, MYNAHIL_ALLOW_DESTRUCTIVE=1,
#   MYNAHIL_CARD_FINGERPRINT and MYNAHIL_OPERATOR=terminal as you choose.
# The destructive pass runs only when everything else passed.
PHYSICAL_SUITES ?= $(REHEARSAL_SUITES)
physical-card: deps ## the suites against your physical test card: READER="…"
	MYNAHIL_READER="$(READER)" $(GINKGO) --keep-going --label-filter='!destructive' $(PHYSICAL_SUITES)
	MYNAHIL_READER="$(READER)" $(GINKGO) --keep-going --label-filter='destructive' $(PHYSICAL_SUITES)

test: deps vet unit suites rehearsal examples ## everything CI runs
	@echo "all tests passed"

# examples: the example suite a user copies (examples/README.md), in process
# and through pcscd.
examples: deps ## the example client suite, in process and through pcscd
	$(GO) test -count=1 ./examples/client/...
	MYNAHIL_TARGET=pcsc $(WITH_PCSCD) $(GO) test -count=1 ./examples/client/...

# interop: OpenSC's JPKI driver and pcsc-tools against the simulated card.
interop: deps ## OpenSC and pcsc-tools against the simulated card
	$(WITH_PCSCD) $(GINKGO) -v ./interop

# bench-pcscd: a short APDU through pcscd, simulated card against vpcd.EchoCard
# in the same run, plus OpenSC's wall times.
bench-pcscd: deps ## APDU round trip through pcscd
	$(WITH_PCSCD) $(GO) test -count=1 -v -run '^TestRoundTrip$$' ./bench

# load-pcscd: issue 9's load test at full size through a private pcscd: 4
# PC/SC contexts × 2000 APDUs in transactions while the office changes the
# card (0 wrong answers), and pcscd's time to notice a removal and an
# insertion. 'make test' runs the same tests with 500 APDUs per context.
load-pcscd: deps ## issue 9 load test at full size through a private pcscd
	MYNAHIL_LOAD_APDUS=2000 $(WITH_PCSCD) --isolate -- $(GO) test -count=1 -v -run '^(TestOfficeUnderLoad|TestPCSCDNoticesRemovalAndInsertion)$$' ./simd

readers: build ## list PC/SC readers with ATR and card fingerprint
	bin/mynahil readers -fingerprint

# conformance-report: the reader conformance suite against the virtual reader
# with the simulated card (private pcscd); report.html, report.json,
# junit.xml and ginkgo-report.json in $(REPORTS)/conformance (docs/conformance.md).
# FAULT=<profile> serves the card through a broken reader instead. It stops
# with "could not run" (exit 3) while another process serves the vpcd slots.
conformance-report: build ## reader conformance suite against the virtual reader (FAULT=profile)
	$(WITH_PCSCD) bin/mynahil conformance --sim $(if $(FAULT),--fault $(FAULT)) --report $(REPORTS)/conformance$(if $(FAULT),-$(FAULT))

# conformance-reader: the suite against your reader:
#   make conformance-reader READER="…" [INTERACTIVE=1]
# PINs only from MYNAHIL_AUTH_PIN / MYNAHIL_SIGN_PIN in the environment.
conformance-reader: build ## reader conformance suite against READER="…" [INTERACTIVE=1]
	bin/mynahil conformance --reader "$(READER)" $(if $(INTERACTIVE),--interactive) --report $(REPORTS)/conformance-reader

# conformance-faults: every fault profile against the suite, about 3 minutes
# (also part of make test).
conformance-faults: deps ## every broken-reader profile against the conformance suite
	$(WITH_PCSCD) $(GINKGO) --label-filter=fault-matrix --output-dir=$(REPORTS) --junit-report=conformance-faults.xml ./conformance

# record: the probe sequence against your card into a transcript
# (docs/record-compare.md). PINs only from MYNAHIL_AUTH_PIN / MYNAHIL_SIGN_PIN,
# sent only with every try left; MYNAHIL_CARD_FINGERPRINT names the one card.
TRANSCRIPT ?= my-card.json
record: build ## READER="…" [TRANSCRIPT=my-card.json]: your card's answers to the probe
	bin/mynahil record --reader "$(READER)" --out $(TRANSCRIPT)

compare: build ## [TRANSCRIPT=…] [COMPAREFLAGS="--token android"]: every difference from the simulated card
	bin/mynahil compare $(COMPAREFLAGS) $(TRANSCRIPT)

bench: ## micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./simcard/ ./simcard/authority/ ./harness/... ./vpcd/

# fuzz runs every fuzz target of the tree for FUZZTIME each (make test runs
# their seed corpora only); docs/reliability.md lists them and their figures.
FUZZTIME ?= 60s
fuzz: ## every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; done

# sim runs the simulated card daemon against this machine's pcscd (bin/mynahil sim --help).
sim: build ## run the simulated card daemon against this machine's pcscd
	bin/mynahil sim $(SIMFLAGS)

# sim-pcscd runs it with a private pcscd that stops with it.
sim-pcscd: build ## run it with a private pcscd that stops with it
	scripts/with-pcscd bin/mynahil sim $(SIMFLAGS)

clean: ## remove bin/, reports/ and ./mynahil-state (the sim's keys and cards)
	rm -rf bin $(REPORTS) mynahil-state
