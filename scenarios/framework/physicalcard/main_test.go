package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/speclabel"
)

// TestPhysicalSuites: the suites with a physical-safe or destructive spec
// run; a suite whose specs all need the simulator (lifecycle) does not.
func TestPhysicalSuites(t *testing.T) {
	got, err := physicalSuites("../../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./scenarios/jpki", "./scenarios/physical", "./scenarios/cardinfo"} {
		if !slices.Contains(got, want) {
			t.Errorf("physicalSuites = %v, want %s among them", got, want)
		}
	}
	if slices.Contains(got, "./scenarios/lifecycle") {
		t.Errorf("physicalSuites = %v: the lifecycle suite has nothing that runs on a physical card", got)
	}
}

// TestPassFilters: the first pass selects physical-safe specs that are not
// destructive, the second destructive ones; sim-only and unlabelled specs
// run in neither.
func TestPassFilters(t *testing.T) {
	safe, err := types.ParseLabelFilter(filterSafe)
	if err != nil {
		t.Fatal(err)
	}
	destr, err := types.ParseLabelFilter(filterDestructive)
	if err != nil {
		t.Fatal(err)
	}
	l := func(ls ...speclabel.Label) []string {
		var out []string
		for _, x := range ls {
			out = append(out, string(x))
		}
		return out
	}
	for _, tt := range []struct {
		labels     []string
		pass1, two bool
	}{
		{l(speclabel.PhysicalSafe), true, false},
		{l(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN), true, false},
		{l(speclabel.Destructive), false, true},
		{l(speclabel.PhysicalSafe, speclabel.Destructive), false, true},
		{l(speclabel.PhysicalSafe, speclabel.SimOnly), false, false},
		{l(speclabel.Destructive, speclabel.SimOnly), false, false},
		{nil, false, false},
	} {
		if safe(tt.labels) != tt.pass1 || destr(tt.labels) != tt.two {
			t.Errorf("labels %v: pass 1 %v, pass 2 %v; want %v, %v", tt.labels, safe(tt.labels), destr(tt.labels), tt.pass1, tt.two)
		}
	}
}

func entry(name, value string) types.ReportEntry {
	return types.ReportEntry{Name: name, Value: types.WrapEntryValue(value)}
}

// writeReport writes a Ginkgo JSON report of one suite.
func writeReport(t *testing.T, path string, specs ...types.SpecReport) {
	t.Helper()
	b, err := json.Marshal([]types.Report{{SuiteDescription: "Physical test card", SpecReports: specs}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHTMLAndCardState: the page shows each selected spec's state and
// reason, leaves out the specs the filter did not select and every trace
// (where personal data could be), escapes what it shows, and ends the run
// with the state the last pass left the card in.
func TestHTMLAndCardState(t *testing.T) {
	dir := t.TempDir()
	it := types.NodeTypeIt
	writeReport(t, filepath.Join(dir, "1.json"),
		types.SpecReport{LeafNodeType: it, LeafNodeText: "reads the auth certificate", State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry("trace", "< 試験　花子 90 00")}},
		types.SpecReport{LeafNodeType: it, LeafNodeText: "signs <b>", State: types.SpecStateSkipped,
			Failure: types.Failure{Message: "needs the sign PIN"}},
		types.SpecReport{LeafNodeType: it, LeafNodeText: "office only", State: types.SpecStateSkipped},
		types.SpecReport{LeafNodeType: types.NodeTypeReportAfterSuite, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry(runsummary.EntryCardState, "auth PIN: 3 of 3 tries left")}},
	)
	writeReport(t, filepath.Join(dir, "2.json"),
		types.SpecReport{LeafNodeType: it, LeafNodeText: "locks the sign PIN", State: types.SpecStateFailed,
			Failure: types.Failure{Message: "tries left 4, want 5"}},
		types.SpecReport{LeafNodeType: types.NodeTypeReportAfterSuite, State: types.SpecStatePassed,
			ReportEntries: types.ReportEntries{entry(runsummary.EntryCardState, "sign PIN blocked: the office must re-set it")}},
	)
	jsons := []string{filepath.Join(dir, "1.json"), filepath.Join(dir, "2.json")}
	html := filepath.Join(dir, "physical-card.html")
	if err := writeHTML(html, "Your Reader", jsons); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"reads the auth certificate", "needs the sign PIN", "signs &lt;b&gt;", "tries left 4, want 5", "1 passed, 1 skipped", "pass 2", "sign PIN blocked"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, avoid := range []string{"試験", "office only", "signs <b>"} {
		if strings.Contains(page, avoid) {
			t.Errorf("the page shows %q", avoid)
		}
	}
	want := `mynahil: the card in "Your Reader" is left with sign PIN blocked: the office must re-set it`
	if got := cardStateLine("Your Reader", jsons); got != want {
		t.Errorf("card state line %q, want %q (the last pass's)", got, want)
	}
	if got := cardStateLine("Your Reader", nil); !strings.Contains(got, "unknown") {
		t.Errorf("without reports the line is %q, want it to say the state is unknown", got)
	}
}
