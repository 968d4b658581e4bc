package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// minShare is the least share of all the suites' specs, in percent, that
// must run and pass on the physical path (docs/physical-cards.md, "What
// runs"): the rehearsal fails below it, so a spec that stops running on a
// physical card, or a new one that never does, shows up in make test.
const minShare = 60

// suiteCount is how many of a suite's specs passed on the physical path
// (in one of the rehearsal's passes) of how many it has.
type suiteCount struct {
	Suite       string
	Ran, Total  int
	passedSpecs map[string]bool
}

// counts are the suites' counts in the order the reports name them.
type counts []suiteCount

// readReports reads one Ginkgo JSON report file.
func readReports(path string) ([]types.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("decoding report %s: %w", path, err)
	}
	return reports, nil
}

// coverage counts, per suite, the specs (It leaves) of the reports and
// those that passed in one of them. Every pass reports every spec of its
// suites (those its label filter left out as skipped), so a suite's total
// is the same in both passes.
func coverage(paths []string) (counts, error) {
	var out counts
	index := map[string]int{}
	for _, p := range paths {
		reports, err := readReports(p)
		if err != nil {
			return nil, err
		}
		for _, r := range reports {
			i, ok := index[r.SuiteDescription]
			if !ok {
				i = len(out)
				index[r.SuiteDescription] = i
				out = append(out, suiteCount{Suite: r.SuiteDescription, passedSpecs: map[string]bool{}})
			}
			for _, sr := range r.SpecReports {
				if sr.LeafNodeType != types.NodeTypeIt {
					continue
				}
				key := sr.FullText()
				out[i].passedSpecs[key] = out[i].passedSpecs[key] || sr.State == types.SpecStatePassed
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the reports hold no suite")
	}
	for i := range out {
		out[i].Total = len(out[i].passedSpecs)
		for _, passed := range out[i].passedSpecs {
			if passed {
				out[i].Ran++
			}
		}
	}
	return out, nil
}

// sum is every suite's counts added up.
func (c counts) sum() (ran, total int) {
	for _, s := range c {
		ran += s.Ran
		total += s.Total
	}
	return ran, total
}

// overall is the sum in words: "89 of 145 specs (61%)".
func (c counts) overall() string {
	ran, total := c.sum()
	pct := 0
	if total > 0 {
		pct = ran * 100 / total
	}
	return fmt.Sprintf("%d of %d specs (%d%%) ran and passed on the physical path", ran, total, pct)
}

// String is the table the summary ends with.
func (c counts) String() string {
	var b strings.Builder
	b.WriteString("rehearsal: specs run and passed on the physical path, per suite:\n")
	for _, s := range c {
		fmt.Fprintf(&b, "  %s: %d of %d\n", s.Suite, s.Ran, s.Total)
	}
	fmt.Fprintf(&b, "  all suites: %s; at least %d%% required\n", c.overall(), minShare)
	return b.String()
}

// check fails when less than minShare percent of all specs ran.
func (c counts) check() error {
	ran, total := c.sum()
	if ran*100 < total*minShare {
		return fmt.Errorf("only %s: at least %d%% of all specs must run on a physical card", c.overall(), minShare)
	}
	return nil
}

// appendFile appends text to the file at path.
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
