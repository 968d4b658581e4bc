package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

func mergeCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("shard merge", flag.ContinueOnError)
	plan := fs.String("plan", "", "the dry-run report every shard was planned from")
	jsonOut := fs.String("json", "", "write the merged Ginkgo JSON report here")
	junitOut := fs.String("junit", "", "write the merged JUnit report here")
	if err := fs.Parse(args); err != nil || *plan == "" || fs.NArg() == 0 {
		return usageError{errors.New("merge needs -plan PLAN.json and the shards' JSON reports")}
	}
	want, err := readReports(*plan)
	if err != nil {
		return err
	}
	var shards [][]types.Report
	for _, path := range fs.Args() {
		r, err := readReports(path)
		if err != nil {
			return err
		}
		shards = append(shards, r)
	}
	merged, problems := Merge(want, shards, fs.Args())
	for _, r := range merged {
		fmt.Fprintln(stdout, summaryLine(r))
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(merged, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return fmt.Errorf("writing the merged JSON report: %w", err)
		}
	}
	if *junitOut != "" {
		if err := writeJUnit(merged, *junitOut); err != nil {
			return err
		}
	}
	return errors.Join(problems...)
}

// specKey names a spec across runs: its suite, its location and its text
// (table entries made in a loop share a location).
func specKey(suite string, s types.SpecReport) string {
	return fmt.Sprintf("%s|%s:%d|%s", suite, relPath(s.LeafNodeLocation.FileName), s.LeafNodeLocation.LineNumber, s.FullText())
}

// selected reports whether the run selected the spec: a spec its filters
// left out is skipped without a message (harness/runsummary counts those
// as "not selected"); a spec that called Skip has one.
func selected(s types.SpecReport) bool {
	return s.State != types.SpecStateSkipped || s.Failure.Message != ""
}

// Merge joins the shards' reports suite by suite, keeping each shard's
// selected specs (It nodes; suite-level nodes of every shard are kept as
// well), and returns the merged reports with every problem: a spec of the
// plan run by no shard or by several, a spec no plan has, a failure.
func Merge(plan []types.Report, shards [][]types.Report, names []string) ([]types.Report, []error) {
	ran := map[string][]string{} // spec key → shards that ran it
	bySuite := map[string]*types.Report{}
	var order []string
	var problems []error
	for i, shard := range shards {
		for _, r := range shard {
			m := bySuite[r.SuitePath]
			if m == nil {
				c := r
				c.SpecReports = nil
				c.SuiteSucceeded = true
				m = &c
				bySuite[r.SuitePath] = m
				order = append(order, r.SuitePath)
			}
			m.SuiteSucceeded = m.SuiteSucceeded && r.SuiteSucceeded
			m.RunTime = max(m.RunTime, r.RunTime)
			for _, s := range r.SpecReports {
				if s.LeafNodeType != types.NodeTypeIt {
					m.SpecReports = append(m.SpecReports, s)
					continue
				}
				if !selected(s) {
					continue
				}
				key := specKey(r.SuitePath, s)
				ran[key] = append(ran[key], names[i])
				m.SpecReports = append(m.SpecReports, s)
				if s.State.Is(types.SpecStateFailureStates) {
					problems = append(problems, fmt.Errorf("%s: %q %s in %s", suiteName(r.SuitePath), s.FullText(), s.State, names[i]))
				}
			}
		}
	}
	problems = append(problems, checkPlan(plan, ran)...)
	sort.Slice(problems, func(a, b int) bool { return problems[a].Error() < problems[b].Error() })
	merged := make([]types.Report, len(order))
	for i, p := range order {
		merged[i] = *bySuite[p]
	}
	return merged, problems
}

// checkPlan holds what ran (spec key → shards) against the plan: every
// planned spec ran in exactly one shard, and nothing ran that the plan
// does not hold.
func checkPlan(plan []types.Report, ran map[string][]string) []error {
	var problems []error
	planned := map[string]bool{}
	for _, r := range plan {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			key := specKey(r.SuitePath, s)
			planned[key] = true
			switch n := len(ran[key]); {
			case n == 0:
				problems = append(problems, fmt.Errorf("%s: %q ran in no shard", suiteName(r.SuitePath), s.FullText()))
			case n > 1:
				problems = append(problems, fmt.Errorf("%s: %q ran in %d shards (%s)", suiteName(r.SuitePath), s.FullText(), n, strings.Join(ran[key], ", ")))
			}
		}
	}
	for key, in := range ran {
		if !planned[key] {
			problems = append(problems, fmt.Errorf("%s ran in %s but is not in the plan", key, strings.Join(in, ", ")))
		}
	}
	return problems
}

func suiteName(path string) string { return relPath(path + "/") }

// summaryLine counts a merged suite as harness/runsummary does.
func summaryLine(r types.Report) string {
	var total, passed, failed, skipped int
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		total++
		switch {
		case s.State == types.SpecStatePassed:
			passed++
		case s.State == types.SpecStateSkipped || s.State == types.SpecStatePending:
			skipped++
		default:
			failed++
		}
	}
	return fmt.Sprintf("shard merge: %s: %d specs: %d ran, %d passed, %d failed, %d skipped",
		r.SuiteDescription, total, total-skipped, passed, failed, skipped)
}

// writeJUnit writes one JUnit file per suite beside out and merges them
// into out (the way the ginkgo CLI merges its per-suite reports).
func writeJUnit(reports []types.Report, out string) error {
	var parts []string
	for i, r := range reports {
		part := fmt.Sprintf("%s.part%d", out, i)
		if err := reporters.GenerateJUnitReport(r, part); err != nil {
			return fmt.Errorf("writing the JUnit report of %s: %w", r.SuiteDescription, err)
		}
		parts = append(parts, part)
	}
	if _, err := reporters.MergeAndCleanupJUnitReports(parts, out); err != nil {
		return fmt.Errorf("merging the JUnit reports: %w", err)
	}
	return nil
}
