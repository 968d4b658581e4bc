// Package jpki_test is the first lifecycle suite: the JPKI applet of a My
// Number Card as its holder's software uses it (docs/card.md §4, §5;
// docs/lifecycle-rules.md §1), through the independent harness client. It runs
// unchanged on every target (MYNAHIL_TARGET=sim|vpcd|pcsc; see package
// scenarios/framework): on a physical card only the specs its labels allow.
package jpki_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestJPKI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "JPKI applet")
}

// The run ends with one line: specs run, passed, skipped and why.
var _ = runsummary.Register("JPKI applet")

var (
	tgt *target.Target
	// pristine is the simulated card's state before any spec: destructive
	// specs on a simulated target put it back afterwards.
	pristine framework.Snapshot
)

var _ = BeforeSuite(func() {
	tgt = framework.OpenTarget()
	if sim := framework.Sim(tgt); sim != nil {
		var err error
		pristine, err = sim.Snapshot()
		Expect(err).NotTo(HaveOccurred())
	}
})

var _ = BeforeEach(func() { tgt.Guard() })

// holder is a card under test with what its holder knows.
type holder struct {
	client  *jpkiclient.Client
	t       harness.Transport
	authPIN jpkiclient.PIN
	signPIN jpkiclient.PIN
}

// targetHolder opens the suite's target through a traced transport (the
// trace goes into the spec's report), selects the JPKI applet, and restores
// a simulated card's state when the spec ends.
func targetHolder() *holder {
	if sim := framework.Sim(tgt); sim != nil {
		DeferCleanup(func() { Expect(sim.Restore(pristine)).To(Succeed()) })
	}
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
	Expect(harness.Reset(t)).To(Succeed())
	c := jpkiclient.New(t)
	Expect(c.SelectAP()).To(Succeed())
	pins := tgt.PINs()
	return &holder{client: c, t: t, authPIN: pins.Auth, signPIN: pins.Sign}
}

// simHolder has a card of its own issued from p by the world's office: for
// sim-only specs about holders the default card is not.
func simHolder(p profile.Profile) *holder {
	w := framework.NewWorld(p.IssueDate.Time)
	c, err := w.Office.IssueCard(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(w.Insert(c), ginkgotrace.ForSpec())
	cl := jpkiclient.New(t)
	Expect(cl.SelectAP()).To(Succeed())
	return &holder{client: cl, t: t, authPIN: jpkiclient.PIN(p.PINs.Auth), signPIN: jpkiclient.PIN(p.PINs.Sign)}
}
