package framework_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/scenarios/framework"
)

func writeReport(t *testing.T, reports []types.Report) string {
	t.Helper()
	b, err := json.Marshal(reports)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func spec(text string, st types.SpecState) types.SpecReport {
	return types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: st}
}

func TestCheckReport(t *testing.T) {
	suite := func(path string, specs ...types.SpecReport) types.Report {
		return types.Report{SuitePath: path, SpecReports: specs}
	}
	for _, c := range []struct {
		name    string
		reports []types.Report
		want    string // "" passes
	}{
		{"all passed", []types.Report{suite("/r/scenarios/lifecycle", spec("a", types.SpecStatePassed), spec("b", types.SpecStatePassed))}, ""},
		{"a skip is not a pass", []types.Report{suite("/r/scenarios/lifecycle", spec("a", types.SpecStatePassed), spec("b", types.SpecStateSkipped))}, `"b" skipped`},
		{"a failure", []types.Report{suite("/r/scenarios/lifecycle", spec("a", types.SpecStateFailed))}, `"a" failed`},
		{"a missing suite", []types.Report{suite("/r/scenarios/jpki", spec("a", types.SpecStatePassed))}, "not in the report"},
		{"an empty suite", []types.Report{suite("/r/scenarios/lifecycle")}, "ran no specs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := framework.CheckReport(writeReport(t, c.reports), "lifecycle")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("CheckReport = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("CheckReport = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestSameStory(t *testing.T) {
	at := framework.Date(2026, 4, 1)
	write := func(target string, texts ...string) string {
		tl := framework.Timeline{Target: target, Name: "timeline"}
		for i, s := range texts {
			tl.Events = append(tl.Events, framework.Event{At: at.AddDate(0, 0, i), Date: at.AddDate(0, 0, i).Format("2006-01-02"), Text: s})
		}
		b, _ := json.Marshal(tl)
		p := filepath.Join(t.TempDir(), target+".json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sim := write("sim", "issued", "renewed")
	if err := framework.SameStory(sim, write("pcsc", "issued", "renewed")); err != nil {
		t.Errorf("same events: %v", err)
	}
	if err := framework.SameStory(sim, write("pcsc", "issued", "revoked")); err == nil || !strings.Contains(err.Error(), "differ at event 2") {
		t.Errorf("a different event: %v", err)
	}
	if err := framework.SameStory(sim, write("vpcd", "issued")); err == nil || !strings.Contains(err.Error(), "ends before") {
		t.Errorf("a missing event: %v", err)
	}
}
