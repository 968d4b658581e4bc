package lifecycle_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/lifecyclereport"
	"github.com/mynahil/mynahil/simcard/clock"
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
	extra := map[string][]lifecyclereport.Event{}
	for _, line := range w.log.lines {
		date, text, ok := strings.Cut(line, "  ")
		at, err := time.ParseInLocation("2006-01-02", date, clock.JST)
		if !ok || err != nil || lifecyclereport.Classify(text) != lifecyclereport.Lockout {
			continue
		}
		for _, c := range w.office.Cards() {
			if strings.Contains(text, c.ID) || len(w.office.Cards()) == 1 {
				extra[c.ID] = append(extra[c.ID], lifecyclereport.Event{At: at, Kind: lifecyclereport.Lockout, Text: text})
			}
		}
	}
	t, err := lifecyclereport.FromOffice(CurrentSpecReport().FullText(), w.office, w.clock.Now(), extra, false)
	if err != nil {
		AddReportEntry("lifecycle report", err.Error())
		return
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
