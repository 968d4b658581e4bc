# mynahil — see README.md. The two commands a newcomer needs:
#   make demo   the card's whole life through a private pcscd, then OpenSC reading the card
#   make test   run every test: unit, fuzz seeds, suites in-process and through real pcscd
SHELL := /bin/bash
GO ?= go
# Go: the go on PATH when it is at least go.mod's version, else the one
# scripts/go-toolchain fetched (README.md, "Prerequisites"). Every target but
# help and clean first finds it (fetching it when missing: bin/go.mk), and
# puts it first on PATH for the scripts and tests that run go themselves.
ifneq ($(filter-out help clean,$(or $(MAKECMDGOALS),all)),)
-include bin/go.mk
endif
bin/go.mk: go.mod scripts/go-toolchain
	@mkdir -p bin && g=$$(scripts/go-toolchain) && echo "GO := \$$(firstword \$$(wildcard $$g) \$$(shell scripts/go-toolchain))" > $@
ifneq ($(filter /%,$(GO)),)
export PATH := $(dir $(GO)):$(PATH)
endif
GINKGO := $(GO) tool ginkgo
DEBS := pcscd libpcsclite-dev vsmartcard-vpcd opensc pcsc-tools
# chromium renders the HTML lifecycle report in its test (lifecyclereport);
# libengine-pkcs11-openssl and curl run the TLS login example
# (examples/tlslogin): installed for the targets that run those tests only,
# so a CI job that builds and runs its client (examples/ci) does without them.
TEST_DEBS := chromium libengine-pkcs11-openssl curl
DEBS_NEEDED = $(DEBS) $(if $(filter test test-busy test-system-pcscd unit unit-main examples,$(MAKECMDGOALS)),$(TEST_DEBS))
REPORTS ?= reports
# with-pcscd starts a private pcscd (never --auto-exit) for the command, or
# reuses one that serves the vpcd readers, and stops what it started; in CI a
# missing pcscd fails the run.
WITH_PCSCD := scripts/with-pcscd

.PHONY: all help deps build demo test recipes rehearsal-recipes test-busy test-system-pcscd unit unit-main unit-conformance unit-faults suites suites-sim suites-vpcd suites-pcsc suites-shard suites-merge bench-lifecycle bench-cards vet examples bench bench-pcscd load-pcscd interop readers conformance-report conformance-reader conformance-faults fuzz sim sim-pcscd record compare rehearsal physical-card suites-daemon clean

all: build ## the same as make build

# help lists the targets: every target line with a "## " comment.
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 30

# deps installs the Debian packages the PC/SC side needs (when missing) and the
# Go modules. apt-get runs only when a package is absent.
deps: ## Go (when missing or too old), the Debian packages (when missing) and Go modules
	@echo "Go: $(GO) ($$($(GO) env GOVERSION))"
	@missing=""; for p in $(DEBS_NEEDED); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
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
# private pcscd with 4 vpcd slots (cmd/mynahil serves 4 cards) and take
# turns on its slots. The conformance package runs beside them with a pcscd
# and namespaces of its own (as root): its fault matrix under ginkgo -p, each
# of FAULT_PROCS processes a reader of its own (docs/conformance.md), and
# the rest of the package in a third namespace, so nothing waits for it.
unit: ## every package's tests, PC/SC ones through a private pcscd
	$(MAKE) --no-print-directory -j3 -O unit-main unit-conformance unit-faults
# harness/pcsc, the PC/SC binding, runs under the race detector: its test of
# many goroutines waiting for reader events at once is what a shared buffer
# or map in the binding would fail (package doc).
RACE_PKGS := ./harness/pcsc
unit-main: ## every package but conformance, through a private pcscd (part of make unit)
	$(WITH_PCSCD) $(ISOLATE) --slots 4 -- $(GO) test -count=1 $$($(GO) list ./... | grep -v -e '/conformance$$' -e '/harness/pcsc$$' -e '/examples/tlslogin$$' -e '/examples/quickstart$$' -e '/examples/ci$$')
	$(WITH_PCSCD) $(ISOLATE) -- $(GO) test -count=1 -race $(RACE_PKGS)
# The conformance package runs under the race detector too: its PC/SC calls
# outlive their deadlines in goroutines of their own (within), and its waits
# are bound by pcscd, not the CPU, so -race costs it almost nothing.
unit-conformance: ## the conformance package but its fault matrix, pcscd of its own (part of make unit)
	$(WITH_PCSCD) $(ISOLATE) -- $(GO) test -count=1 -race ./conformance/ -args -ginkgo.label-filter='!fault-matrix'
# The fault matrix: its profiles spread over FAULT_PROCS Ginkgo processes,
# each verdict as in a serial run (conformance/fault_matrix_test.go).
FAULT_PROCS ?= 6
unit-faults: ## the conformance fault matrix in FAULT_PROCS processes (part of make unit)
	$(WITH_PCSCD) $(ISOLATE) --slots $$(( 2 * $(FAULT_PROCS) )) -- $(GINKGO) --no-color -p --procs $(FAULT_PROCS) --race \
		--label-filter=fault-matrix ./conformance -- -test.run '^TestConformance$$'

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
# each suite into its package directory three times over). They are named
# <suite>-prebuilt.test: a ginkgo run of the package beside them (the
# rehearsal, the quick starts, in the same make test) builds and then
# deletes <suite>.test.
SCENARIO_BINS := $(foreach p,$(SCENARIOS),$(p)/$(notdir $(p))-prebuilt.test)
SUITE_RUN = env MYNAHIL_TARGET=$(1) MYNAHIL_TIMELINE_DIR=$(abspath $(REPORTS)) MYNAHIL_REPORTS=$(abspath $(REPORTS)) $(GINKGO) --no-color $(2) $(call SUITE_REPORTS,$(1)) \
	$(if $(SUITES_PREBUILT),$(SCENARIO_BINS),$(SCENARIOS))
suites: ## the scenario suites on sim, vpcd and pcsc in parallel (JUnit, JSON, timelines, HTML)
	for p in $(SCENARIOS); do $(GO) test -c -o $$p/$$(basename $$p)-prebuilt.test $$p || exit 1; done
	status=0; $(MAKE) --no-print-directory -j3 -O SUITES_PREBUILT=1 suites-sim suites-vpcd suites-pcsc || status=$$?; \
		rm -f $(SCENARIO_BINS); exit $$status
	$(GO) run ./scenarios/framework/checkreport -suites lifecycle,cardinfo,cardinfoclient,counter \
		$(REPORTS)/scenarios-vpcd.json $(REPORTS)/scenarios-pcsc.json
	$(GO) run ./scenarios/framework/checkreport -timelines \
		$(REPORTS)/timeline-sim.json $(REPORTS)/timeline-vpcd.json $(REPORTS)/timeline-pcsc.json

# On sim the suites run as SIM_SHARDS shards, one after the other, the way
# CI hosts run them side by side (suites-shard below), and suites-merge
# checks that the merged report holds every spec exactly once.
SIM_SHARDS ?= 2
suites-sim: ## the scenario suites on the sim target alone (in process, as SIM_SHARDS shards)
	rm -f $(REPORTS)/shard-sim-*
	for i in $$(seq 1 $(SIM_SHARDS)); do \
		$(MAKE) --no-print-directory suites-shard SHARD=$$i/$(SIM_SHARDS) SHARD_TARGET=sim || exit 1; done
	$(MAKE) --no-print-directory suites-merge SHARD_TARGET=sim MERGED=scenarios-sim
suites-vpcd: ## the scenario suites on the vpcd target alone (vpcd wire, no pcscd, 4 processes)
	$(call SUITE_RUN,vpcd,-p --procs 4)
# On pcsc each suite runs in SUITE_PROCS Ginkgo processes, each with its
# own card in its own readers (two vpcd slots per process,
# harness/target.ProcessSlot) and its own worlds: pcscd's presence polling
# is paid side by side. The reports and the summary line of each suite
# count the specs of all processes (docs/suites.md, "In parallel").
SUITE_PROCS ?= 8
suites-pcsc: ## the scenario suites on the pcsc target alone (private pcscd, SUITE_PROCS processes)
	$(WITH_PCSCD) --isolate --slots $$(( 2 * $(SUITE_PROCS) )) -- $(call SUITE_RUN,pcsc,-p --procs $(SUITE_PROCS))
# suites-shard: one CI host's share of the suites (docs/suites.md,
# "Sharding across CI hosts"): a dry run lists the specs, 'shard plan'
# gives this shard's --focus-file filters (whole top-level containers,
# spec counts balanced), and the suites run with them on SHARD_TARGET (pcsc:
# in a private pcscd with SUITE_PROCS processes), writing
# $(REPORTS)/shard-<target>-<i>.{json,xml}. suites-merge, on one host with
# every shard's JSON report in $(REPORTS), checks that every spec ran in
# exactly one shard and passed, prints one line per suite and writes
# $(REPORTS)/$(MERGED).{json,xml}.
SHARD ?= 1/1
SHARD_TARGET ?= pcsc
MERGED ?= scenarios-merged
SHARD_PLAN = $(abspath $(REPORTS))/plan-$(SHARD_TARGET).json
SHARD_TAG = $(SHARD_TARGET)-$(firstword $(subst /, ,$(SHARD)))
suites-shard: ## one CI host's shard of the suites: SHARD=i/n SHARD_TARGET=sim|vpcd|pcsc
	@mkdir -p $(REPORTS)
	$(GINKGO) --no-color --dry-run --silence-skips --json-report=$(SHARD_PLAN) $(if $(SUITES_PREBUILT),$(SCENARIO_BINS),$(SCENARIOS)) >/dev/null
	filters=$$($(GO) run ./scenarios/framework/shard plan -shard $(SHARD) $(SHARD_PLAN)) || exit 2; \
	$(if $(filter pcsc,$(SHARD_TARGET)),$(WITH_PCSCD) --isolate --slots $$(( 2 * $(SUITE_PROCS) )) --) \
	env MYNAHIL_TARGET=$(SHARD_TARGET) MYNAHIL_TIMELINE_DIR=$(abspath $(REPORTS)) MYNAHIL_REPORTS=$(abspath $(REPORTS)) \
		$(GINKGO) --no-color $(if $(filter pcsc,$(SHARD_TARGET)),-p --procs $(SUITE_PROCS)) $$filters \
		--output-dir=$(REPORTS) --junit-report=shard-$(SHARD_TAG).xml --json-report=shard-$(SHARD_TAG).json \
		$(if $(SUITES_PREBUILT),$(SCENARIO_BINS),$(SCENARIOS))
suites-merge: ## merge the shards' reports; fails unless every spec ran exactly once
	$(GO) run ./scenarios/framework/shard merge -plan $(SHARD_PLAN) \
		-json $(REPORTS)/$(MERGED).json -junit $(REPORTS)/$(MERGED).xml $(REPORTS)/shard-$(SHARD_TARGET)-*.json

test-busy: ## make test while four CPU-bound loops keep the machine busy (docs/reliability.md)
	scripts/with-busy-cpus 4 -- $(MAKE) --no-print-directory test

test-system-pcscd: ## make test against pcscd served as Debian's systemd units serve it (socket-activated, --auto-exit), in private namespaces (root)
	scripts/with-system-pcscd -- $(MAKE) --no-print-directory test

suites-daemon: build ## lifecycle and card-info suites on pcsc against a running 'mynahil sim' (MYNAHIL_CONTROL)
	$(WITH_PCSCD) --isolate -- env GO=$(GO) scripts/suites-daemon bin/mynahil $(REPORTS)

# bench-lifecycle: the lifecycle suite's wall time in process, through
# pcscd with 8 Ginkgo processes (16 vpcd slots, each process its own
# readers) and through pcscd serially, in one run, with pcscd's
# removal/insertion detection time and the ratios (bench/lifecycle_test.go).
# The figures go to $(REPORTS)/bench-lifecycle.txt. It fails unless the
# test ran and passed: a skipped test is no figure.
bench-lifecycle: deps ## the lifecycle suite's wall time in process, through pcscd in 8 processes and serially
	@mkdir -p $(REPORTS); rm -f $(REPORTS)/bench-lifecycle.txt
	set -o pipefail; MYNAHIL_BENCH_LIFECYCLE=1 MYNAHIL_BENCH_OUT=$(abspath $(REPORTS))/bench-lifecycle.txt \
		$(WITH_PCSCD) --isolate --slots 16 -- $(GO) test -count=1 -v -run '^TestLifecycleWallTime$$' ./bench | tee $(REPORTS)/bench-lifecycle.log
	@grep -q -- '^--- PASS: TestLifecycleWallTime' $(REPORTS)/bench-lifecycle.log && test -s $(REPORTS)/bench-lifecycle.txt || \
		{ echo "bench-lifecycle: FAIL: TestLifecycleWallTime did not run to a pass (skipped?): no figures"; exit 1; }
	@cat $(REPORTS)/bench-lifecycle.txt

# bench-cards: N = 1, 2, 4, 8, 16 simulated cards signing at once, each with
# its own client: through pcscd ('mynahil sim --cards N', N PC/SC contexts,
# N readers of a private pcscd) and in process; signatures per second,
# p50/p99 latency and the sim's RSS per card in $(REPORTS)/bench-cards.txt
# and the plot $(REPORTS)/bench-cards.svg (bench/cards_test.go). Fails
# unless the test ran and passed.
bench-cards: deps ## N = 1..16 cards signing at once through pcscd and in process: table and reports/bench-cards.svg
	@mkdir -p $(REPORTS); rm -f $(REPORTS)/bench-cards.txt $(REPORTS)/bench-cards.svg
	set -o pipefail; MYNAHIL_BENCH_CARDS=1 MYNAHIL_BENCH_DIR=$(abspath $(REPORTS)) \
		$(WITH_PCSCD) --isolate --slots 16 -- $(GO) test -count=1 -v -timeout 20m -run '^TestCardsThroughput$$' ./bench | tee $(REPORTS)/bench-cards.log
	@grep -q -- '^--- PASS: TestCardsThroughput' $(REPORTS)/bench-cards.log && test -s $(REPORTS)/bench-cards.svg || \
		{ echo "bench-cards: FAIL: TestCardsThroughput did not run to a pass (skipped?): no figures"; exit 1; }
	@cat $(REPORTS)/bench-cards.txt

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

# physical-card: the QA quick start (README.md, docs/physical-cards.md): the
# suites that can run on a physical card (those with physical-safe or
# destructive specs; PHYSICAL_SUITES overrides) against your test card, in
# two passes, the destructive one only when the first passed:
#   make physical-card READER="…"   with MYNAHIL_AUTH_PIN, MYNAHIL_SIGN_PIN,
#   MYNAHIL_CARDINFO_PIN, MYNAHIL_ALLOW_DESTRUCTIVE=1,
#   MYNAHIL_CARD_FINGERPRINT and MYNAHIL_OPERATOR=terminal as you choose.
# Reports: $(REPORTS)/physical-card-{1,2}.{xml,json} and physical-card.html;
# the last line is the state the run left the card in.
PHYSICAL_SUITES ?=
physical-card: deps ## the suites that can run on a physical card, against yours: READER="…" (JUnit, JSON, HTML)
	MYNAHIL_READER="$(READER)" $(GO) run ./scenarios/framework/physicalcard -reports $(REPORTS) -ginkgo "$(GINKGO)" $(PHYSICAL_SUITES)

# The processes of a run (go test ./..., ginkgo -p, the three targets of
# make suites) take the simulated cards' RSA keys from one file instead of
# generating them each (simcard/keypool, MYNAHIL_KEYPOOL_FILE): generated
# once, then a cache.
KEYPOOL ?= $(or $(TMPDIR),/tmp)/mynahil-keypool-$(shell id -u).pem
test unit unit-main unit-conformance unit-faults suites suites-sim suites-vpcd suites-pcsc suites-shard bench-lifecycle bench-cards: export MYNAHIL_KEYPOOL_FILE = $(KEYPOOL)

# test runs its parts at once (make -j): each PC/SC part has its own pcscd
# in namespaces of its own (as root), so they never share a reader, and
# most of their time is pcscd's polling, not CPU (docs/suites.md, "Speed").
TEST_JOBS ?= 8
test: deps ## everything CI runs, its independent parts at once
	$(MAKE) --no-print-directory -j$(TEST_JOBS) -O vet unit suites examples rehearsal-recipes
	@echo "all tests passed"

# examples: the example suite a user copies (examples/README.md), in process
# and through pcscd, and the TLS login recipe (examples/tlslogin, a pcscd and
# namespaces of its own; unit leaves it to this target). The CI recipes run
# 'make examples' themselves, so the recipes' test is not part of it.
examples: deps ## the example client suite and the TLS login recipe, in process and through pcscd
	$(GO) test -count=1 ./examples/client/...
	MYNAHIL_TARGET=pcsc $(WITH_PCSCD) $(ISOLATE) -- $(GO) test -count=1 ./examples/client/...
	$(GO) test -count=1 ./examples/tlslogin/...

# rehearsal-recipes: the rehearsal, then the quick starts and CI recipes.
# Both run ginkgo on the scenario packages, which builds <suite>.test in the
# package directory and deletes it afterwards: beside each other, one would
# lose its binary to the other ("could not be found").
rehearsal-recipes: ## the rehearsal, then the quick starts and CI recipes (one after the other: they share the suites' directories)
	$(MAKE) --no-print-directory rehearsal
	$(MAKE) --no-print-directory recipes

# recipes: the README's quick starts and the CI recipes in examples/ci, one
# after the other (-p 1): both build bin/mynahil and run the sim in the
# checkout, so they must not run beside each other (unit leaves them to
# this target).
recipes: deps ## the README's quick starts and the CI recipes (examples/ci), run as a user would
	$(GO) test -count=1 -p 1 ./examples/quickstart ./examples/ci

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

# conformance-faults: every fault profile against the suite, spread over
# FAULT_PROCS processes, each with a reader of its own (also part of make
# test, as unit-faults).
conformance-faults: deps ## every broken-reader profile against the conformance suite, in parallel readers
	$(WITH_PCSCD) $(ISOLATE) --slots $$(( 2 * $(FAULT_PROCS) )) -- $(GINKGO) -p --procs $(FAULT_PROCS) --label-filter=fault-matrix \
		--output-dir=$(REPORTS) --junit-report=conformance-faults.xml ./conformance -- -test.run '^TestConformance$$'

# record: the probe sequence against your card into a transcript
# (docs/record-compare.md). PINs only from MYNAHIL_AUTH_PIN / MYNAHIL_SIGN_PIN,
# sent only with every try left; MYNAHIL_CARD_FINGERPRINT names the one card.
TRANSCRIPT ?= my-card.json
record: build ## READER="…" [TRANSCRIPT=my-card.json]: your card's answers to the probe
	bin/mynahil record --reader "$(READER)" --out $(TRANSCRIPT)

compare: build ## [TRANSCRIPT=…] [COMPAREFLAGS="--token android"]: every difference from the simulated card
	bin/mynahil compare $(COMPAREFLAGS) $(TRANSCRIPT)

bench: ## micro-benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./simcard/ ./simcard/card/ ./simcard/authority/ ./harness/... ./vpcd/

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
