package framework

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// CheckReport reads a Ginkgo JSON report (ginkgo --json-report) and checks
// that each named suite (by the last element of its path, e.g.
// "lifecycle") is in it and that every one of its specs ran and passed:
// none failed, none pending, none skipped. On vpcd and pcsc the lifecycle
// and card-info suites must run whole (docs/suites.md); a skip is not a
// pass.
func CheckReport(path string, suites ...string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return fmt.Errorf("decoding report %s: %w", path, err)
	}
	var errs []error
	for _, name := range suites {
		r, ok := findSuite(reports, name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: suite %q is not in the report", path, name))
			continue
		}
		specs := 0
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			specs++
			if s.State != types.SpecStatePassed {
				why := s.Failure.Message
				if why == "" && len(s.ReportEntries) == 0 {
					why = s.State.String()
				}
				errs = append(errs, fmt.Errorf("%s: %s: %q %s: %s", path, name, s.FullText(), s.State, firstLine(why)))
			}
		}
		if specs == 0 {
			errs = append(errs, fmt.Errorf("%s: suite %q ran no specs", path, name))
		}
	}
	return errors.Join(errs...)
}

func findSuite(reports []types.Report, name string) (types.Report, bool) {
	for _, r := range reports {
		if r.SuitePath == name || strings.HasSuffix(r.SuitePath, "/"+name) {
			return r, true
		}
	}
	return types.Report{}, false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// SameStory reads timelines written by Timeline.Report (one per target)
// and checks that they tell the same story: the same events on the same
// dates, in the same order. Only the target may differ.
func SameStory(paths ...string) error {
	var first []Event
	for i, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading timeline: %w", err)
		}
		var t Timeline
		if err := json.Unmarshal(b, &t); err != nil {
			return fmt.Errorf("decoding timeline %s: %w", path, err)
		}
		if len(t.Events) == 0 {
			return fmt.Errorf("timeline %s has no events", path)
		}
		if i == 0 {
			first = t.Events
			continue
		}
		for j := range max(len(first), len(t.Events)) {
			switch {
			case j >= len(first):
				return fmt.Errorf("%s goes on after %s ends: %s  %s", path, paths[0], t.Events[j].Date, t.Events[j].Text)
			case j >= len(t.Events):
				return fmt.Errorf("%s ends before %s: missing %s  %s", path, paths[0], first[j].Date, first[j].Text)
			case first[j].Date != t.Events[j].Date || first[j].Text != t.Events[j].Text || !first[j].At.Equal(t.Events[j].At):
				return fmt.Errorf("%s and %s differ at event %d:\n  %s  %s\n  %s  %s", paths[0], path, j+1,
					first[j].Date, first[j].Text, t.Events[j].Date, t.Events[j].Text)
			}
		}
	}
	return nil
}
