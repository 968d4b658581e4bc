package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// report writes a Ginkgo JSON report of one suite whose specs are in the
// given states, and returns its path.
func report(t *testing.T, suite string, states map[string]types.SpecState) string {
	t.Helper()
	r := types.Report{SuiteDescription: suite}
	r.SpecReports = append(r.SpecReports, types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed})
	for text, st := range states {
		r.SpecReports = append(r.SpecReports, types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: st})
	}
	b, err := json.Marshal([]types.Report{r})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCoverageCountsSpecsThatPassedInEitherPass: a spec counts as run on
// the physical path when it passed in one of the passes; skipped and
// failed ones, and nodes other than It, do not; the share check fails
// below 60% and passes at it.
func TestCoverageCountsSpecsThatPassedInEitherPass(t *testing.T) {
	const (
		pass = types.SpecStatePassed
		skip = types.SpecStateSkipped
		fail = types.SpecStateFailed
	)
	first := report(t, "S", map[string]types.SpecState{"a": pass, "b": skip, "c": skip, "d": fail, "e": skip})
	second := report(t, "S", map[string]types.SpecState{"a": skip, "b": pass, "c": skip, "d": skip, "e": pass})
	c, err := coverage([]string{first, second})
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 1 || c[0].Ran != 3 || c[0].Total != 5 {
		t.Fatalf("coverage = %+v, want S: 3 of 5", c)
	}
	if err := c.check(); err != nil {
		t.Errorf("3 of 5 (60%%): %v, want no error", err)
	}
	if !strings.Contains(c.String(), "S: 3 of 5") || !strings.Contains(c.String(), "3 of 5 specs (60%)") {
		t.Errorf("summary:\n%s", c)
	}
	other := report(t, "T", map[string]types.SpecState{"x": skip})
	c, err = coverage([]string{first, second, other})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "3 of 6 specs (50%)") {
		t.Errorf("3 of 6: %v, want a failure naming 3 of 6 (50%%)", err)
	}
}

// TestRehearsalSuitesAreEveryScenarioSuite: the Makefile's REHEARSAL_SUITES
// (and so make physical-card's) names every Ginkgo suite under scenarios/
// but the framework's own tests, so the share of specs run on the physical
// path counts all of them; the counter suite comes last (its loss report
// gives the card a new auth certificate, which later suites would not
// recognise as the card the run was opted in for).
func TestRehearsalSuitesAreEveryScenarioSuite(t *testing.T) {
	mk, err := os.ReadFile("../../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^REHEARSAL_SUITES \?= (.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("no REHEARSAL_SUITES in the Makefile")
	}
	listed := strings.Fields(string(m[1]))
	files, err := filepath.Glob("../../*/*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := "./scenarios/" + filepath.Base(filepath.Dir(f))
		if strings.Contains(string(b), "RunSpecs(") && dir != "./scenarios/framework" && !slices.Contains(want, dir) {
			want = append(want, dir)
		}
	}
	got := slices.Clone(listed)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("REHEARSAL_SUITES = %v, want every scenario suite %v", got, want)
	}
	if len(listed) == 0 || listed[len(listed)-1] != "./scenarios/counter" {
		t.Errorf("REHEARSAL_SUITES = %v: the counter suite must come last", listed)
	}
}
