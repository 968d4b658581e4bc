package framework

import (
	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simreplay"
)

// IssueInProcess issues a card of its own from p, with a fresh test
// authority and its clock at the profile's issue date, and opens an
// in-process transport to it: for sim-only specs about card variants the
// target's card is not (docs/suites.md). It is the suites' one way to a
// card outside the target, so they never reach the simulator themselves
// (the one-way imports, checked by TestImportGraph).
func IssueInProcess(p profile.Profile) (harness.Transport, error) {
	sim, err := simreplay.Issue(p)
	if err != nil {
		return nil, err
	}
	return sim.Transport, nil
}
