package framework

import "github.com/mynahil/mynahil/harness/target"

// Labels of the reader conformance suite (package conformance), beside the
// scenario suites' (harness/target.Labels). The names are shared: a label
// means the same in both, and neither suite may rename one alone
// (labels_test.go checks the conformance suite's against this registry).
var conformanceLabels = map[string]string{
	"reader":       "the reader conformance suite (R01–R21)",
	"fault-matrix": "every fault profile of a broken reader against the conformance suite",
	"mandatory":    "a conformance check that decides the verdict",
	"optional":     "a conformance check that informs but does not decide",
	"pin":          "a conformance check that sends the auth PIN when one is given",
	"card-control": "a conformance check that removes and inserts the card (simulated card or operator)",
}

// Registry is every label a suite may carry, with what it means: the
// scenario suites' (harness/target.Labels) and the conformance suite's.
// Label refuses anything else; conformance check IDs (R01 …) are labels of
// their own and not listed.
func Registry() map[string]string {
	out := make(map[string]string, len(target.Labels)+len(conformanceLabels))
	for k, v := range conformanceLabels {
		out[k] = v
	}
	for k, v := range target.Labels {
		out[k] = v
	}
	return out
}
