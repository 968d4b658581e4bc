// Package framework is the one package through which every scenario suite
// reaches its target and the simulator (docs/suites.md):
//
//   - the target: OpenTarget opens what MYNAHIL_TARGET and MYNAHIL_READER
//     name (package harness/target); importing this package registers the
//     opener of simulated cards, so the harness itself never imports the
//     simulator;
//   - the labels: Label refuses names outside the registry shared with the
//     conformance suite (Registry);
//   - the sim-only check: RequireSimulator;
//   - the world: NewWorld builds the office, the clock and the relying
//     party in one place, in process for the sim target and around the
//     simulator daemon (package simd, driven through its control API) for
//     vpcd and pcsc;
//   - a simulated card's snapshot and restore (SimCard).
//
// Suites import this package and the harness clients; they never import
// simcard/..., simd or vpcd themselves (imports_test.go checks it). The
// card's profile (simcard/profile) is the exception: it is the description
// of the card the test knows, and the source of its expected values.
package framework

import (
	"fmt"
	"slices"
	"sort"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness/target"
)

// Labels shared by the scenario and conformance suites: the names are
// harness/target's and must stay stable (the conformance suite uses the
// same strings).
const (
	Destructive  = target.LabelDestructive
	SimOnly      = target.LabelSimOnly
	PhysicalSafe = target.LabelPhysicalSafe
	NeedsAuthPIN = target.LabelNeedsAuthPIN
	NeedsSignPIN = target.LabelNeedsSignPIN
	Slow         = target.LabelSlow
	Interactive  = target.LabelInteractive
)

// Label returns a Ginkgo label decorator, refusing (panicking at tree
// construction, so the suite does not start) any name outside the registry:
// a misspelt "destrutive" would silently escape the physical-card guard.
func Label(names ...string) ginkgo.Labels {
	registry := Registry()
	for _, n := range names {
		if _, ok := registry[n]; !ok {
			known := make([]string, 0, len(registry))
			for k := range registry {
				known = append(known, k)
			}
			sort.Strings(known)
			panic(fmt.Sprintf("framework.Label: unknown label %q (known: %v)", n, known))
		}
	}
	return ginkgo.Label(slices.Clone(names)...)
}

// OpenTarget opens the suite's target (target.OpenForSuite): call it in
// BeforeSuite. Simulated targets are opened by this package.
func OpenTarget() *target.Target {
	ginkgo.GinkgoHelper()
	return target.OpenForSuite()
}

// RequireSimulator skips the running spec when the target is a physical
// card: the spec needs the simulator (its office, its clock or its
// internals). Label such specs SimOnly as well, so the guard and the
// summary know before they start.
func RequireSimulator() {
	ginkgo.GinkgoHelper()
	cfg, err := target.FromEnv()
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	if cfg.Physical {
		ginkgo.Skip("sim-only: needs the simulator, never runs on a physical card")
	}
}
