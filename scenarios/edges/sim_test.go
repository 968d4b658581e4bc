package edges_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

// simClient issues a card of its own from p, in process, for sim-only
// specs about variants the target's card is not.
func simClient(p profile.Profile) *jpkiclient.Client {
	GinkgoHelper()
	card, err := framework.IssueInProcess(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(card, ginkgotrace.ForSpec())
	DeferCleanup(harness.Close, t)
	c := jpkiclient.New(t)
	Expect(c.SelectAP()).To(Succeed())
	return c
}
