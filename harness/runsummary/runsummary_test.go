package runsummary_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/runsummary"
)

// envPlanted makes this test binary run the planted suite below instead of
// the tests (the tests start it as a child process).
const envPlanted = "SUITEREPORT_PLANTED_SUITE"

// The planted suite: one spec passes, three skip for the sign PIN, one for
// an operator; registered only in the child process.
var _ = func() bool {
	if os.Getenv(envPlanted) == "" {
		return false
	}
	Describe("planted", func() {
		It("passes", func() {})
		for range 3 {
			It("needs the sign PIN", func() { Skip("needs the sign PIN: set MYNAHIL_SIGN_PIN") })
		}
		It("needs the office", func() { Skip("needs an operator: set MYNAHIL_OPERATOR") })
	})
	return runsummary.Register("planted")
}()

func TestPlantedSuite(t *testing.T) {
	if os.Getenv(envPlanted) == "" {
		return // only the child runs the suite; the parent's tests are below
	}
	RunSpecs(t, "planted")
}

// runPlanted runs the planted suite in a child process with extra env.
func runPlanted(t *testing.T, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestPlantedSuite$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{envPlanted + "=1", runsummary.EnvStrict + "=", runsummary.EnvFile + "="}, env...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestPlantedSkipsAreGrouped(t *testing.T) {
	out, err := runPlanted(t)
	if err != nil {
		t.Fatalf("planted suite failed without strict mode: %v\n%s", err, out)
	}
	want := "mynahil: planted: 5 specs: 1 ran, 1 passed, 0 failed, 4 skipped (3 need the sign PIN, 1 needs an operator); MOST SPECS WERE SKIPPED"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks the grouped line\nwant: %s\n got:\n%s", want, out)
	}
}

func TestStrictModeFailsOnMissingPINs(t *testing.T) {
	out, err := runPlanted(t, runsummary.EnvStrict+"=1")
	if err == nil {
		t.Fatalf("strict mode passed a run with 3 specs skipped for the sign PIN:\n%s", out)
	}
	if !strings.Contains(out, "3 specs skipped for a missing PIN") {
		t.Errorf("strict failure does not say why:\n%s", out)
	}
}

func TestSummaryFile(t *testing.T) {
	path := t.TempDir() + "/summary.txt"
	if out, err := runPlanted(t, runsummary.EnvFile+"="+path); err != nil {
		t.Fatalf("planted suite: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "mynahil: planted: 5 specs: 1 ran") {
		t.Errorf("summary file = %q", b)
	}
}

func spec(state types.SpecState, msg string, entries ...types.ReportEntry) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, State: state, Failure: types.Failure{Message: msg}, ReportEntries: entries}
}

func TestSummarise(t *testing.T) {
	state := types.ReportEntry{Name: runsummary.EntryCardState, Value: types.WrapEntryValue("auth PIN blocked: the office must re-set it")}
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.SpecStatePassed, ""),
		spec(types.SpecStatePassed, ""),
		spec(types.SpecStateFailed, "boom"),
		spec(types.SpecStateSkipped, "needs the auth PIN: set MYNAHIL_AUTH_PIN"),
		spec(types.SpecStateSkipped, ""),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
		{LeafNodeType: types.NodeTypeCleanupAfterSuite, State: types.SpecStatePassed, ReportEntries: []types.ReportEntry{state}},
	}}
	s := runsummary.Summarise("s", r)
	if s.Total != 5 || s.Ran != 3 || s.Passed != 2 || s.Failed != 1 || s.Skipped != 1 || s.NotSelected != 1 || s.MissingPIN != 1 {
		t.Errorf("counts = %+v", s)
	}
	if s.MostlySkipped() {
		t.Error("1 skipped of 5 with 3 run counted as mostly skipped")
	}
	want := "s: 5 specs: 3 ran, 2 passed, 1 failed, 1 skipped (1 needs the auth PIN); 1 not selected by this run's filters; card left with auth PIN blocked: the office must re-set it"
	if got := s.Line(); got != want {
		t.Errorf("Line()\n got %s\nwant %s", got, want)
	}
	if s.StrictError() == nil {
		t.Error("strict mode passes a skip for a missing PIN")
	}
	if (runsummary.Summary{Reasons: map[string]int{"needs an operator": 3}, Skipped: 3}).StrictError() != nil {
		t.Error("strict mode fails on skips that are not for a PIN")
	}
}

func TestGroup(t *testing.T) {
	for msg, want := range map[string]string{
		"needs the sign PIN: set MYNAHIL_SIGN_PIN":                     "needs the sign PIN",
		"sim-only: needs the simulator, never runs on a physical card": "sim-only",
		"issues its own cards\nsecond line":                            "issues its own cards",
		"":                                                             "not selected by this run's filters",
	} {
		if got := runsummary.Group(msg); got != want {
			t.Errorf("Group(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestSkipInBeforeAllSharesTheReason: the specs after the first in an
// Ordered container whose BeforeAll skipped count under the first one's
// reason, not under Ginkgo's generic message.
func TestSkipInBeforeAllSharesTheReason(t *testing.T) {
	in := func(container, msg string) types.SpecReport {
		sr := spec(types.SpecStateSkipped, msg)
		sr.ContainerHierarchyTexts = []string{container}
		return sr
	}
	generic := "Spec skipped because Skip() was called in BeforeAll"
	r := types.Report{SpecReports: types.SpecReports{
		in("ten years", "sim-only: needs the issuing office"),
		in("ten years", generic),
		in("ten years", generic),
		in("at the counter", "needs the sign PIN: set MYNAHIL_SIGN_PIN"),
		in("at the counter", generic),
	}}
	s := runsummary.Summarise("s", r)
	if s.Reasons["sim-only"] != 3 || s.Reasons["needs the sign PIN"] != 2 || len(s.Reasons) != 2 {
		t.Errorf("reasons = %v, want 3 sim-only and 2 needing the sign PIN", s.Reasons)
	}
}

// A PIN the budget withheld from the run opens the summary line: the run
// failed, and why, before the counts.
func TestPINBudgetOpensTheLine(t *testing.T) {
	const why = "the auth PIN given was refused; 2 of 3 tries left: no further try is spent in this run; check MYNAHIL_AUTH_PIN"
	entry := types.ReportEntry{Name: runsummary.EntryPINBudget, Value: types.WrapEntryValue(why)}
	r := types.Report{SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed, ReportEntries: []types.ReportEntry{entry}},
		spec(types.SpecStatePassed, ""),
		spec(types.SpecStateSkipped, why),
	}}
	s := runsummary.Summarise("JPKI applet", r)
	line := s.Line()
	if !strings.HasPrefix(line, "THIS RUN FAILED: "+why+". JPKI applet: 2 specs") {
		t.Errorf("line = %q", line)
	}
	if !strings.Contains(line, "1 the auth PIN given was refused; 2 of 3 tries left") {
		t.Errorf("the skip is not grouped by its reason: %q", line)
	}
}
