package conformance_test

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/vpcd"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// faultCase is one row of the branch → fault table: the failure branches
// the profile proves (their checks must fail with the branch's message,
// conformance.Branches), and the checks that legitimately depend on what it
// breaks (they may fail). Every other mandatory check must pass.
type faultCase struct {
	profile string
	proves  []string
	affects []string
}

// targets returns the checks of the proven branches.
func (fc faultCase) targets() []string {
	var ids []string
	for _, b := range fc.proves {
		id, _, _ := strings.Cut(b, ".")
		if !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// faultTable proves that every failure branch of every mandatory check can
// fail (see the coverage spec below and docs/conformance-checklist.md).
// "affects" lists why a profile also breaks other checks: R06 sends every
// APDU shape, R17 reads certificates in Le=00 chunks.
var faultTable = []faultCase{
	{"mute-card", []string{"R01.not-ready"}, nil}, // nothing can talk to a mute card: every check that connects fails
	{"slow-insertion", []string{"R02.insertion-late"}, nil},
	{"slow-removal", []string{"R02.removal-late"}, []string{"R04"}},
	{"vanish-mid-apdu", []string{"R04.phantom-response"}, nil},
	{"no-t1-atr", []string{"R05.atr", "R05.protocol"}, nil},
	{"stray-byte", []string{"R14.needed", "R14.exact-size", "R06.case2"}, []string{"R08", "R17"}},
	{"short-response", []string{"R14.insufficient-buffer", "R14.exact-content"}, []string{"R06", "R08", "R17"}},
	{"force-61xx", []string{"R07.length"}, nil},
	{"drop-last-byte", []string{"R07.length"}, []string{"R06", "R08", "R10", "R11", "R17"}},
	{"broken-get-response", []string{"R08.assembly"}, []string{"R06", "R07", "R09", "R10", "R17"}},
	{"no-extended", []string{"R09.case2E", "R09.case3E"}, nil},
	{"cut-256", []string{"R10.response", "R07.length"}, []string{"R06", "R08", "R09", "R11", "R17"}},
	{"refuse-long-command", []string{"R10.command"}, []string{"R06"}},
	{"flip-long-command", []string{"R06.echo"}, nil},
	{"impatient-reader", []string{"R11.gives-up", "R17.flow"}, nil},
	{"stall", []string{"R12.hang", "R20.concurrency"}, []string{"R06", "R07", "R11", "R17"}}, // the PIN paths start with a case-1 tries-left query
	// The PIN paths (R07, R11) ask the tries left first: a garbled 63C3
	// reads 63C2, and the PIN budget sends no PIN short of a try.
	{"corrupt-sw", []string{"R13.undefined", "R06.case34"}, []string{"R05", "R06", "R07", "R09", "R10", "R11", "R17"}},
	{"ignore-reset", []string{"R15.reset", "R16.reset"}, nil},
	{"latency-spikes", []string{"R16.soak-latency", "R16.soak-p99"}, nil},
	{"garble-now-and-then", []string{"R16.soak-answer"}, nil},
	{"status-only-mishandled", []string{"R06.case1", "R13.no-sw"}, []string{"R07", "R11", "R17", "R20"}}, // the PIN paths and R20's workers start with a case-1 tries-left query
	{"slow-signature", []string{"R11.budget"}, nil},
	// Not a reader fault: the PC/SC stack between the suite and pcscd lies
	// about what pcscd implements (faults.Stack). R20's workers rely on
	// transactions being exclusive.
	{"lying-pcsc-stack", []string{"R01.status-reader", "R01.status-powered", "R01.status-atr", "R04.handle-alive", "R15.sharing", "R15.transaction", "R15.leave", "R16.reset-atr"}, []string{"R20"}},
}

// envFaultTable: environment faults met in the middle of a run
// (docs/conformance.md#environment-faults). Each row runs R01, R05, R13
// and R14 (or its own four checks) on the healthy virtual reader, breaks
// the environment once R05 has passed, and expects the run to stop at the
// third check with the row's cause: verdict "incomplete" (exit 4), R01
// and R05 kept as finished before the fault, never "not conformant". Each row sets up and tears down all it
// uses (envfault_test.go).
var envFaultTable = []envFaultCase{
	{"reader held exclusively by another application", conformance.CauseSharing, holdExclusively, nil},
	{"the card vanishes mid-run (the serving simulator stops)", conformance.CauseCardGone, stopServingCard, nil},
	{"pcscd killed mid-run", conformance.CausePCSCD, nil, nil}, // in a child process with a pcscd of its own: killPCSCDMidRun
	// R07 reads the auth certificate and compares it with the run's: the
	// first check to notice the swap.
	{"another card put in mid-run", conformance.CauseOtherCard, swapCard, []string{"R01", "R05", "R07", "R13"}},
}

func branchByID(id string) conformance.Branch {
	for _, b := range conformance.Branches() {
		if b.ID == id {
			return b
		}
	}
	Fail("unknown failure branch " + id)
	return conformance.Branch{}
}

// matrixConfig is the suite as the fault matrix runs it: the simulated card
// with its PINs, extended APDUs declared (the vpcd transport carries them,
// docs/vpcd-pcscd.md §9), a 2 s APDU timeout (below faults.StallFor), a 1 s
// slow-operation budget (below faults.SlowSignature) and a reduced soak.
func matrixConfig(sim *conformance.Sim, reader string, soak int) conformance.Config {
	return conformance.Config{
		Reader:      reader,
		AuthPIN:     conformance.SimAuthPIN,
		SignPIN:     conformance.SimSignPIN,
		SoakCount:   soak,
		APDUTimeout: 2 * time.Second,
		SlowBudget:  time.Second,
		ExtendedMax: 65526,
		Card:        sim,
		Log:         GinkgoWriter,
	}
}

// matrixSlot is the vpcd slot of this Ginkgo process's card: slot 0 in a
// serial run; under ginkgo -p each process has a reader of its own (the
// first slot of its pair, as harness/target.ProcessSlot), so that profiles
// run side by side, each alone in its reader (docs/conformance.md, "The
// fault matrix in parallel").
func matrixSlot() int { return 2 * (GinkgoParallelProcess() - 1) }

func runProfile(name string, soak int) []conformance.Result {
	p, ok := faults.ByName(name)
	Expect(ok).To(BeTrue(), "unknown fault profile %q", name)
	slot := matrixSlot()
	reader := vpcd.ReaderName(slot)
	sim, err := conformance.StartSim(slot, p, slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelError})))
	Expect(err).NotTo(HaveOccurred())
	defer func() {
		sim.Close()
		// The next profile must not find this card still reported present.
		Expect(conformance.WaitCard(reader, false, 5*time.Second+p.RemoveDelay)).To(Succeed())
	}()
	// The run starts with the card in the reader (a card missing at the
	// start is "could not run", not a verdict).
	Expect(conformance.WaitCard(reader, true, 15*time.Second+p.InsertDelay)).To(Succeed())
	results, base, err := conformance.Run(matrixConfig(sim, reader, soak))
	Expect(err).NotTo(HaveOccurred())
	// The baseline the run's timing limits derive from, kept in the report.
	AddReportEntry("baseline", fmt.Sprintf("SELECT round trip median %v, max %v", base.Median, base.Max))
	AddReportEntry("reader", fmt.Sprintf("%s (Ginkgo process %d)", reader, GinkgoParallelProcess()))
	return results
}

func statusOf(results []conformance.Result) map[string]conformance.Result {
	m := map[string]conformance.Result{}
	for _, r := range results {
		m[r.Check.ID] = r
	}
	return m
}

func summary(results []conformance.Result) string {
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "%s %s %s\n", r.Check.ID, r.Status, strings.SplitN(r.Message, "\n", 2)[0])
	}
	return b.String()
}

// The rows are independent specs (not Ordered): serially they run one after
// the other in slot 0; under ginkgo -p (make unit, conformance-faults) they
// spread over the processes, each profile in its process's own reader of
// a pcscd serving two slots per process (scripts/with-pcscd --slots).
var _ = Describe("Fault matrix", speclabel.Of(speclabel.FaultMatrix, speclabel.Slow), func() {
	BeforeEach(func() {
		if testing.Short() {
			Skip("the fault matrix takes about 3 minutes: not with -short")
		}
		startPCSCD()
	})

	It("finds the healthy virtual reader conformant, with the full 1000-APDU soak", func() {
		results := runProfile(faults.Healthy.Name, 1000)
		for _, r := range results {
			AddReportEntry(r.Check.ID, string(r.Status))
		}
		Expect(conformance.Verdict(results)).To(Equal("conformant"), summary(results))
		for _, r := range results {
			switch {
			case r.Check.HasLabel(speclabel.Interactive):
				Expect(r.Status).To(Equal(conformance.Skipped), "%s runs only with an operator", r.Check.ID)
			default:
				Expect(r.Status).To(Equal(conformance.Passed), "%s: %s", r.Check.ID, r.Message)
			}
		}
	})

	matrixRow := func(fc faultCase) {
		results := runProfile(fc.profile, 100)
		byID := statusOf(results)
		for _, bid := range fc.proves {
			b := branchByID(bid)
			id := b.Check()
			Expect(byID).To(HaveKey(id))
			Expect(byID[id].Status).To(Equal(conformance.Failed), "%s should catch %s:\n%s", id, fc.profile, summary(results))
			Expect(byID[id].Message).To(ContainSubstring(b.Match), "%s should fail %s (%s) under %s", id, bid, b.What, fc.profile)
			AddReportEntry(bid+" failure", byID[id].Message)
		}
		related := append(fc.targets(), fc.affects...)
		for _, r := range results {
			if !r.Check.Mandatory || contains(related, r.Check.ID) || fc.profile == "mute-card" {
				continue
			}
			Expect(r.Status).To(Equal(conformance.Passed), "%s is unrelated to %s but did not pass: %s", r.Check.ID, fc.profile, r.Message)
		}
		Expect(conformance.Verdict(results)).To(Equal("not conformant"))
	}
	rowName := func(fc faultCase) string { return fc.profile + " → " + strings.Join(fc.proves, ", ") }
	DescribeTable("a broken reader fails the check aimed at its fault and passes the unrelated mandatory ones",
		append([]any{matrixRow, rowName}, entries()...)...)

	DescribeTable("an environment fault mid-run stops the run without a verdict on the reader",
		append([]any{func(fc envFaultCase) { expectStoppedByFault(fc, runEnvFault(fc)) }}, envEntries()...)...)

	It("has a fault for every non-interactive check and a row for every profile", func() {
		targeted := map[string]bool{}
		var rows []string
		for _, fc := range faultTable {
			rows = append(rows, fc.profile)
			for _, id := range fc.targets() {
				targeted[id] = true
			}
		}
		for _, c := range conformance.Checks() {
			if c.HasLabel(speclabel.Interactive) {
				continue
			}
			Expect(targeted).To(HaveKey(c.ID), "no fault profile makes %s fail", c.ID)
		}
		sort.Strings(rows)
		Expect(rows).To(Equal(faults.Names()))
	})
})

func entries() []any {
	var out []any
	for _, fc := range faultTable {
		out = append(out, Entry(nil, fc))
	}
	return out
}

func envEntries() []any {
	var out []any
	for _, fc := range envFaultTable {
		out = append(out, Entry(fc.name+" → "+fc.cause, fc))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
