package conformance_test

import (
	"os"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// TestEveryBranchProven: every failure branch of every mandatory check has
// a fault profile in the matrix that proves it (or says why none can), and
// docs/conformance-checklist.md lists each branch with those profiles.
func TestEveryBranchProven(t *testing.T) {
	doc, err := os.ReadFile("../docs/conformance-checklist.md")
	if err != nil {
		t.Fatalf("the checklist the report links: %v", err)
	}
	if !strings.Contains(string(doc), "Checklist version: "+conformance.ChecklistVersion+"\n") {
		t.Errorf("the checklist does not say it is version %s", conformance.ChecklistVersion)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		if id, ok := strings.CutPrefix(l, "| `"); ok {
			id, _, _ = strings.Cut(id, "`")
			lines[id] = l
		}
	}
	proven := map[string][]string{}
	for _, fc := range faultTable {
		if _, ok := faults.ByName(fc.profile); !ok {
			t.Errorf("fault table row %q names no profile", fc.profile)
		}
		for _, b := range fc.proves {
			proven[b] = append(proven[b], fc.profile)
		}
	}
	known := map[string]bool{}
	mandatory := map[string]bool{}
	for _, c := range conformance.Checks() {
		mandatory[c.ID] = c.Mandatory
	}
	hasBranch := map[string]bool{}
	for _, b := range conformance.Branches() {
		known[b.ID] = true
		hasBranch[b.Check()] = true
		if !mandatory[b.Check()] {
			t.Errorf("%s: a branch of %s, which is not a mandatory check", b.ID, b.Check())
		}
		if b.Match == "" || b.What == "" {
			t.Errorf("%s: no message fragment or description", b.ID)
		}
		line, ok := lines[b.ID]
		if !ok {
			t.Errorf("%s is not listed in docs/conformance-checklist.md", b.ID)
		}
		switch {
		case b.NoProfile != "" && len(proven[b.ID]) > 0:
			t.Errorf("%s says no profile can reach it, but %v do", b.ID, proven[b.ID])
		case b.NoProfile != "":
			if !strings.Contains(line, "no profile") {
				t.Errorf("the checklist's line for %s does not say why it has no profile", b.ID)
			}
		case len(proven[b.ID]) == 0:
			t.Errorf("failure branch %s (%s) has no fault profile that proves it", b.ID, b.What)
		}
		for _, p := range proven[b.ID] {
			if !strings.Contains(line, "`"+p+"`") {
				t.Errorf("the checklist's line for %s does not name profile %s", b.ID, p)
			}
		}
	}
	for b := range proven {
		if !known[b] {
			t.Errorf("the fault table proves %s, which is no failure branch", b)
		}
	}
	for id, m := range mandatory {
		if m && !hasBranch[id] {
			t.Errorf("mandatory check %s has no failure branch listed", id)
		}
	}
}
