package framework_test

import (
	"testing"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/scenarios/framework"
)

// A misspelt label would escape the physical-card guard: the registry
// refuses it before the suite starts.
func TestLabelRefusesUnknownNames(t *testing.T) {
	got := framework.Label(framework.Destructive, framework.NeedsSignPIN)
	if len(got) != 2 || got[0] != "destructive" || got[1] != "needs-sign-pin" {
		t.Errorf("Label(destructive, needs-sign-pin) = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Label accepted the unknown label \"destrutive\"")
		}
	}()
	framework.Label("destrutive")
}

// The conformance suite labels its checks with names from the same
// registry, and the names both suites use mean the same.
func TestConformanceLabelsAreRegistered(t *testing.T) {
	reg := framework.Registry()
	for _, c := range conformance.Checks() {
		for _, l := range conformance.SpecLabels(c) {
			if l == c.ID {
				continue
			}
			if _, ok := reg[l]; !ok {
				t.Errorf("conformance check %s carries label %q, which is not in the registry", c.ID, l)
			}
		}
	}
	for _, same := range [][2]string{{conformance.LabelInteractive, framework.Interactive}, {conformance.LabelSlow, framework.Slow}} {
		if same[0] != same[1] {
			t.Errorf("the conformance suite spells %q, the scenario suites %q", same[0], same[1])
		}
	}
	for _, l := range []string{"reader", "fault-matrix"} {
		framework.Label(l) // the conformance suite's containers
	}
}
