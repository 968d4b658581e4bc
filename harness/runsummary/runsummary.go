// Package runsummary ends every scenario suite run with one honest line:
// how many specs ran, passed and failed, and how many were skipped, with
// the skip reasons grouped ("12 need the sign PIN", "9 need an operator").
// A skip is not a pass: a run in which most specs were skipped says so on
// the same line, and MYNAHIL_STRICT=1 makes skips for a missing PIN fail
// the run, for pipelines that must test everything (docs/physical-cards.md).
//
// Every suite registers it once, at the top level of its suite file:
//
//	var _ = runsummary.Register("JPKI applet")
package runsummary

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// Environment variables the report reads.
const (
	// EnvStrict: 1 makes a skip for a missing PIN fail the run.
	EnvStrict = "MYNAHIL_STRICT"
	// EnvFile: a file the summary line is appended to as well (make
	// rehearsal reads it back).
	EnvFile = "MYNAHIL_SUMMARY_FILE"
)

// EntryCardState is the name of the report entry in which a suite records
// the state it left the card in (harness/target does so for every target);
// the summary line repeats it.
const EntryCardState = "card state"

// EntryPINBudget is the name of the report entries in which a suite
// records each PIN the PIN budget withholds from the whole run
// (harness/pinbudget: refused, or short of tries at the pre-flight): each
// fails the run, and the summary line starts with them.
const EntryPINBudget = "pin budget"

// notSelected groups specs the run's own --label-filter or --focus left out.
const notSelected = "not selected by this run's filters"

// Summary counts one suite run.
type Summary struct {
	Suite              string
	Total, Ran, Passed int
	Failed, Skipped    int
	// NotSelected counts the specs this run's --label-filter or --focus
	// left out: not skips, they were not asked for.
	NotSelected int
	Reasons     map[string]int // skip reason group → specs
	CardState   []string       // what the run left the card in
	PINProblems []string       // why the PIN budget withheld a PIN from the run (each fails it)
	MissingPIN  int            // skips for a missing PIN (strict mode fails on these)
}

// Group returns the group a skip message belongs to: the text before its
// first ": " (the guard's messages are written "needs the sign PIN: set
// …"), or the whole first line.
func Group(message string) string {
	msg, _, _ := strings.Cut(strings.TrimSpace(message), "\n")
	if msg == "" {
		return notSelected
	}
	if i := strings.Index(msg, ": "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// skippedInBeforeAll starts Ginkgo's message for the specs after the
// first in an Ordered container whose BeforeAll called Skip.
const skippedInBeforeAll = "Spec skipped because Skip() was called in BeforeAll"

// missingPIN reports whether a group is a skip for a PIN the run was not
// given ("needs the auth PIN", "needs the card-info PIN", …).
func missingPIN(group string) bool {
	return strings.HasPrefix(group, "needs the ") && strings.HasSuffix(group, " PIN")
}

// Summarise counts the specs of a report. Suite-level nodes (BeforeSuite,
// report nodes) are not specs; their card-state entries are collected.
func Summarise(name string, r types.Report) Summary {
	s := Summary{Suite: name, Reasons: map[string]int{}}
	// In an Ordered container whose BeforeAll skipped, the first spec
	// carries the reason and the rest only Ginkgo's "Skip() was called in
	// BeforeAll": they share the first one's group.
	byContainer := map[string]string{}
	for _, sr := range r.SpecReports {
		for _, e := range sr.ReportEntries {
			switch e.Name {
			case EntryCardState:
				s.CardState = append(s.CardState, e.StringRepresentation())
			case EntryPINBudget:
				s.PINProblems = append(s.PINProblems, e.StringRepresentation())
			}
		}
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		s.Total++
		switch {
		case sr.State == types.SpecStatePassed:
			s.Ran++
			s.Passed++
		case sr.State == types.SpecStateSkipped || sr.State == types.SpecStatePending:
			g := Group(sr.Failure.Message)
			container := strings.Join(sr.ContainerHierarchyTexts, "\x00")
			if strings.HasPrefix(g, skippedInBeforeAll) && byContainer[container] != "" {
				g = byContainer[container]
			} else {
				byContainer[container] = g
			}
			if sr.State == types.SpecStatePending {
				g = "pending"
			}
			if g == notSelected {
				s.NotSelected++
				continue
			}
			s.Skipped++
			s.Reasons[g]++
			if missingPIN(g) {
				s.MissingPIN++
			}
		default: // failed, panicked, interrupted, aborted, timed out
			s.Ran++
			s.Failed++
		}
	}
	return s
}

// MostlySkipped reports whether more specs were skipped than were run.
func (s Summary) MostlySkipped() bool { return s.Skipped > 0 && s.Skipped >= s.Ran }

// plural turns "needs …" into "need …" after a count other than one.
func plural(n int, group string) string {
	if n != 1 {
		if rest, ok := strings.CutPrefix(group, "needs "); ok {
			return "need " + rest
		}
	}
	return group
}

// Line is the one-line summary.
func (s Summary) Line() string {
	var b strings.Builder
	if len(s.PINProblems) > 0 {
		fmt.Fprintf(&b, "THIS RUN FAILED: %s. ", strings.Join(slices.Compact(s.PINProblems), "; "))
	}
	fmt.Fprintf(&b, "%s: %d specs: %d ran, %d passed, %d failed, %d skipped", s.Suite, s.Total, s.Ran, s.Passed, s.Failed, s.Skipped)
	if len(s.Reasons) > 0 {
		groups := make([]string, 0, len(s.Reasons))
		for g := range s.Reasons {
			groups = append(groups, g)
		}
		// Most frequent first, then by name, so the line is stable.
		sort.Slice(groups, func(i, j int) bool {
			if s.Reasons[groups[i]] != s.Reasons[groups[j]] {
				return s.Reasons[groups[i]] > s.Reasons[groups[j]]
			}
			return groups[i] < groups[j]
		})
		parts := make([]string, len(groups))
		for i, g := range groups {
			parts[i] = strconv.Itoa(s.Reasons[g]) + " " + plural(s.Reasons[g], g)
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if s.NotSelected > 0 {
		fmt.Fprintf(&b, "; %d %s", s.NotSelected, notSelected)
	}
	if s.MostlySkipped() {
		fmt.Fprintf(&b, "; MOST SPECS WERE SKIPPED: this run tested little of the card")
	}
	if len(s.CardState) > 0 {
		fmt.Fprintf(&b, "; card left with %s", strings.Join(slices.Compact(s.CardState), "; "))
	}
	return b.String()
}

// StrictError is the reason strict mode fails the run, or nil.
func (s Summary) StrictError() error {
	if s.MissingPIN == 0 {
		return nil
	}
	return fmt.Errorf("%s=1: %d specs skipped for a missing PIN; give every PIN (MYNAHIL_AUTH_PIN, MYNAHIL_SIGN_PIN, MYNAHIL_CARDINFO_PIN) or drop strict mode", EnvStrict, s.MissingPIN)
}

// Strict reports whether MYNAHIL_STRICT asks for strict mode.
func Strict() bool {
	b, _ := strconv.ParseBool(os.Getenv(EnvStrict))
	return b
}

// Register adds the summary to the running suite: a ReportAfterSuite node
// that prints the line (on process 1 with the report of every process)
// and, in strict mode, fails the run on skips for a missing PIN. Call it
// at the top level: var _ = runsummary.Register("name").
func Register(name string) bool {
	return ginkgo.ReportAfterSuite("mynahil summary", func(r ginkgo.Report) {
		s := Summarise(name, r)
		line := "mynahil: " + s.Line()
		fmt.Fprintln(os.Stdout, line)
		if path := os.Getenv(EnvFile); path != "" {
			if err := appendLine(path, line); err != nil {
				ginkgo.Fail(fmt.Sprintf("writing the summary to %s: %v", path, err))
			}
		}
		if Strict() {
			if err := s.StrictError(); err != nil {
				ginkgo.Fail(err.Error())
			}
		}
	})
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, line+"\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
