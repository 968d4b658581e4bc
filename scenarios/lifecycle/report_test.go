package lifecycle_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/scenarios/framework/lifecyclereport"
)

// timelines collects every world's story for the HTML lifecycle report.
var timelines struct {
	sync.Mutex
	list []lifecyclereport.Timeline
}

// collectReport reads a world's office into the report; newWorld defers it
// so it runs before the office closes. Lockouts happen on the chip, not at
// the office: they come from the world's timeline lines.
func collectReport(w *world) {
	var lockouts []lifecyclereport.Event
	for _, e := range w.Timeline.Events {
		if lifecyclereport.Classify(e.Text) == lifecyclereport.Lockout {
			lockouts = append(lockouts, lifecyclereport.Event{At: e.At, Kind: lifecyclereport.Lockout, Text: e.Text})
		}
	}
	name := CurrentSpecReport().FullText()
	t, err := w.LifecycleTimeline(name, nil)
	if err != nil {
		return // no card issued in this world: nothing to draw
	}
	// A lockout line names its card when a world holds several; else it is
	// the world's only card.
	if len(lockouts) > 0 {
		extra := map[string][]lifecyclereport.Event{}
		for _, c := range t.Cards {
			for _, e := range lockouts {
				if len(t.Cards) == 1 || strings.Contains(e.Text, c.ID) {
					extra[c.ID] = append(extra[c.ID], e)
				}
			}
		}
		if t, err = w.LifecycleTimeline(name, extra); err != nil {
			AddReportEntry("lifecycle report", err.Error())
			return
		}
	}
	timelines.Lock()
	defer timelines.Unlock()
	timelines.list = append(timelines.list, t)
}

// The lifecycle report goes to $MYNAHIL_REPORTS/lifecycle.html beside the
// JUnit and JSON reports (make suites, make demo set it).
var _ = ReportAfterSuite("lifecycle.html", func(Report) {
	dir := os.Getenv("MYNAHIL_REPORTS")
	timelines.Lock()
	defer timelines.Unlock()
	if dir == "" || len(timelines.list) == 0 {
		return // no worlds ran (another target): keep the page of the run that had them
	}
	path := filepath.Join(dir, "lifecycle.html")
	if err := lifecyclereport.WriteFile(path, lifecyclereport.Page{Title: "Card lifecycles (simulated)", Timelines: timelines.list}); err != nil {
		Fail(err.Error())
	}
})
