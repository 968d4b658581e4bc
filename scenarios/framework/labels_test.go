package framework_test

import (
	"testing"

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
