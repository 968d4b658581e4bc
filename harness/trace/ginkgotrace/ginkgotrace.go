// Package ginkgotrace attaches APDU traces to Ginkgo spec reports.
//
// Entries use ginkgo.ReportEntryVisibilityFailureOrVerbose: every report file
// (--json-report, --junit-report) carries the trace of every spec, while the
// console prints it only when the spec failed or Ginkgo runs with -v. A
// passing suite stays quiet; a failing one shows the exchanges that led up to
// the failure. The trace is already PIN-masked by package trace.
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

// ForSpec returns a new Recorder and registers a DeferCleanup that attaches
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
