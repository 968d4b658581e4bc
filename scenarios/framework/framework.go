// Package framework is the one package through which every scenario suite
// reaches its target and the simulator (docs/suites.md):
//
//   - the target: OpenTarget opens what MYNAHIL_TARGET and MYNAHIL_READER
//     name (package harness/target), OpenPhysicalTarget only a physical
//     card; importing this package registers the opener of simulated
//     cards, so the harness itself never imports the simulator;
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
	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness/target"
)

// OpenTarget opens the suite's target (target.OpenForSuite): call it in
// BeforeSuite. Simulated targets are opened by this package.
func OpenTarget() *target.Target {
	ginkgo.GinkgoHelper()
	return target.OpenForSuite()
}

// OpenPhysicalTarget opens the target when the environment names a
// physical card (MYNAHIL_READER), and returns nil on a simulated target:
// for suites whose simulated cards come from the world, one per spec (the
// card-info suites), so they hold no vpcd slot of their own. Call it in
// BeforeSuite.
func OpenPhysicalTarget() *target.Target {
	ginkgo.GinkgoHelper()
	cfg, err := target.FromEnv()
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	if !cfg.Physical {
		return nil
	}
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
