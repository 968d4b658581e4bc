// Package ginkgotrace attaches APDU traces to Ginkgo spec reports.
//
// Entries use ginkgo.ReportEntryVisibilityFailureOrVerbose: every report file
// (--json-report, --junit-report) carries the trace of every spec, while the
// console prints it only when the spec failed or Ginkgo runs with -v. A
// passing suite stays quiet; a failing one shows the exchanges that led up to
// the failure. The trace is already PIN-masked by package trace, and on a
// physical card (ForTarget) the holder's personal data is hidden.
package ginkgotrace

import (
	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness/trace"
)

// EntryName is the name of the report entry that holds the trace.
const EntryName = "APDU trace"

// Attach adds the current rendering of rec to the running spec's report.
// It must be called while a spec runs (in a setup, subject or cleanup node).
// An empty recorder adds nothing.
func Attach(rec *trace.Recorder) {
	if rec == nil || rec.Len() == 0 {
		return
	}
	ginkgo.AddReportEntry(EntryName, rec.String(), ginkgo.ReportEntryVisibilityFailureOrVerbose, ginkgo.Offset(1))
}

// ForSpec returns a new Recorder for a simulated card (full responses, see
// ForTarget for a physical one) and registers a DeferCleanup that attaches
// it to the report when the current spec ends, whether it passed or not.
// Call it from a BeforeEach or an It:
//
//	rec := ginkgotrace.ForSpec()
//	t := harness.Traced(harness.NewInProcess(card), rec)
func ForSpec() *trace.Recorder {
	rec := trace.New()
	ginkgo.DeferCleanup(Attach, rec, ginkgo.Offset(1))
	return rec
}

// Card is what ForTarget needs to know of the card a spec talks to;
// harness/target's Target is one.
type Card interface {
	// Physical reports whether the card is a physical one.
	Physical() bool
}

// ForTarget is ForSpec for a spec on card: on a physical card the trace
// hides the holder's personal data unless the user asked for it with
// MYNAHIL_REPORT_PERSONAL=1 (package trace, docs/physical-cards.md).
func ForTarget(card Card) *trace.Recorder {
	rec := trace.NewFor(card != nil && card.Physical())
	ginkgo.DeferCleanup(Attach, rec, ginkgo.Offset(1))
	return rec
}
