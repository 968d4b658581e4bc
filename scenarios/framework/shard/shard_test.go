package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// spec is an It at file:line inside the top-level container at file:top.
func spec(file string, top, line int, text string, state types.SpecState) types.SpecReport {
	return types.SpecReport{
		LeafNodeType:                types.NodeTypeIt,
		LeafNodeText:                text,
		LeafNodeLocation:            types.CodeLocation{FileName: "/src/x/scenarios/" + file, LineNumber: line},
		ContainerHierarchyLocations: []types.CodeLocation{{FileName: "/src/x/scenarios/" + file, LineNumber: top}},
		ContainerHierarchyTexts:     []string{fmt.Sprintf("container %d", top)},
		State:                       state,
	}
}

func suite(path string, specs ...types.SpecReport) types.Report {
	return types.Report{SuitePath: path, SuiteDescription: path, SuiteSucceeded: true, SpecReports: specs}
}

// planReport: suite a with containers of 3, 2 and 1 specs, suite b with 2.
func planReport() []types.Report {
	p := types.SpecStatePassed
	return []types.Report{
		suite("/src/x/scenarios/a",
			spec("a/a_test.go", 10, 11, "one", p), spec("a/a_test.go", 10, 12, "two", p), spec("a/a_test.go", 10, 13, "three", p),
			spec("a/a_test.go", 20, 21, "four", p), spec("a/a_test.go", 20, 22, "five", p),
			spec("a/b_test.go", 5, 6, "six", p)),
		suite("/src/x/scenarios/b", spec("b/b_test.go", 3, 4, "seven", p), spec("b/b_test.go", 3, 4, "eight", p)),
	}
}

// TestPlanKeepsContainersWholeAndBalances: every top-level container goes
// to exactly one shard, whole, and the biggest first to the emptiest shard.
func TestPlanKeepsContainersWholeAndBalances(t *testing.T) {
	shards := Plan(planReport(), 2)
	got := fmt.Sprint(shards)
	// 3 → shard 1; 2 → shard 2; 2 → shard 2 (2 < 3); 1 → shard 1 (3 < 4).
	want := `[[scenarios/a/a_test\.go$:10 scenarios/a/b_test\.go$:5] [scenarios/a/a_test\.go$:20 scenarios/b/b_test\.go$:3]]`
	if got != want {
		t.Errorf("plan\n got %s\nwant %s", got, want)
	}
	if three := Plan(planReport(), 5); len(three[4]) != 0 {
		t.Errorf("5 shards of 4 containers: the last shard has %v, want none", three[4])
	}
}

// shardRun is the report of a run with filters: the specs not in keep are
// skipped without a message, as Ginkgo reports specs its filters left out.
func shardRun(keep func(types.SpecReport) bool) []types.Report {
	var out []types.Report
	for _, r := range planReport() {
		c := r
		c.SpecReports = nil
		for _, s := range r.SpecReports {
			if !keep(s) {
				s.State = types.SpecStateSkipped
			}
			c.SpecReports = append(c.SpecReports, s)
		}
		out = append(out, c)
	}
	return out
}

func inFirst(s types.SpecReport) bool { return s.ContainerHierarchyLocations[0].LineNumber == 10 }

// TestMergeFindsEverySpecOnce: a proper split merges cleanly; a spec run
// twice, a spec run nowhere, a failure and a spec outside the plan are
// each reported.
func TestMergeFindsEverySpecOnce(t *testing.T) {
	names := []string{"shard-1", "shard-2"}
	first := shardRun(inFirst)
	second := shardRun(func(s types.SpecReport) bool { return !inFirst(s) })
	merged, problems := Merge(planReport(), [][]types.Report{first, second}, names)
	if len(problems) != 0 {
		t.Fatalf("a proper split: %v", problems)
	}
	if len(merged) != 2 || len(merged[0].SpecReports) != 6 || len(merged[1].SpecReports) != 2 {
		t.Errorf("merged %d suites, want 2 with 6 and 2 specs", len(merged))
	}
	if line := summaryLine(merged[0]); !strings.HasSuffix(line, "6 specs: 6 ran, 6 passed, 0 failed, 0 skipped") {
		t.Errorf("summary %q", line)
	}

	dup := shardRun(func(s types.SpecReport) bool { return !inFirst(s) || s.LeafNodeText == "two" })
	gap := shardRun(func(s types.SpecReport) bool { return !inFirst(s) && s.LeafNodeText != "seven" })
	failed := shardRun(func(s types.SpecReport) bool { return !inFirst(s) })
	failed[1].SpecReports[0].State = types.SpecStateFailed
	skipped := shardRun(func(s types.SpecReport) bool { return !inFirst(s) })
	skipped[1].SpecReports[0].State = types.SpecStateSkipped
	skipped[1].SpecReports[0].Failure.Message = "needs the sign PIN"
	extra := shardRun(func(s types.SpecReport) bool { return !inFirst(s) })
	extra[1].SpecReports = append(extra[1].SpecReports, spec("b/b_test.go", 3, 9, "nine", types.SpecStatePassed))
	for _, tc := range []struct {
		name   string
		second []types.Report
		want   string
	}{
		{"a spec in two shards", dup, `"container 10 two" ran in 2 shards (shard-1, shard-2)`},
		{"a spec in no shard", gap, `"container 3 seven" ran in no shard`},
		{"a failed spec", failed, `"container 3 seven" failed in shard-2`},
		{"a spec outside the plan", extra, "is not in the plan"},
	} {
		_, problems := Merge(planReport(), [][]types.Report{first, tc.second}, names)
		if len(problems) != 1 || !strings.Contains(problems[0].Error(), tc.want) {
			t.Errorf("%s: problems %v, want one saying %q", tc.name, problems, tc.want)
		}
	}
	// A spec that called Skip ran in its shard: counted, and skipped in the line.
	merged, problems = Merge(planReport(), [][]types.Report{first, skipped}, names)
	if len(problems) != 0 || !strings.Contains(summaryLine(merged[1]), "2 specs: 1 ran, 1 passed, 0 failed, 1 skipped") {
		t.Errorf("a skipped spec: %v, %q", problems, summaryLine(merged[1]))
	}
}

func TestUsage(t *testing.T) {
	var out, errOut strings.Builder
	for _, args := range [][]string{nil, {"nope"}, {"plan", "-shard", "3/2", "x.json"}, {"plan", "-shard", "0/2", "x.json"}, {"merge", "x.json"}} {
		if code := run(args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
