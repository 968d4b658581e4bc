// Package jpki_test is the first lifecycle suite: the JPKI applet of a My
// Number Card as its holder's software uses it (docs/card.md §4, §5;
// docs/lifecycle-rules.md §1), through the independent harness client. It runs
// unchanged on every target (MYNAHIL_TARGET=sim|vpcd|pcsc; see package
// harness/target): on a physical card only the specs its labels allow.
package jpki_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpki"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestJPKI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "JPKI applet")
}

var (
	tgt *target.Target
	// pristine is the simulated card's state before any spec: destructive
	// specs on a simulated target put it back afterwards.
	pristine card.Snapshot
)

var _ = BeforeSuite(func() {
	tgt = target.OpenForSuite()
	if iss := tgt.Issued(); iss != nil {
		var err error
		pristine, err = iss.Snapshot()
		Expect(err).NotTo(HaveOccurred())
	}
})

var _ = BeforeEach(func() { tgt.Guard() })

// holder is a card under test with what its holder knows.
type holder struct {
	client  *jpki.Client
	t       harness.Transport
	authPIN jpki.PIN
	signPIN jpki.PIN
}

// targetHolder opens the suite's target through a traced transport (the
// trace goes into the spec's report), selects the JPKI applet, and restores
// a simulated card's state when the spec ends.
func targetHolder() *holder {
	if iss := tgt.Issued(); iss != nil {
		DeferCleanup(func() {
			Expect(iss.Restore(pristine)).To(Succeed())
		})
	}
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForSpec())
	Expect(t.Reset()).To(Succeed())
	c := jpki.New(t)
	Expect(c.SelectAP()).To(Succeed())
	pins := tgt.PINs()
	return &holder{client: c, t: t, authPIN: pins.Auth, signPIN: pins.Sign}
}

var issuer *simcard.Issuer

// simHolder issues a card of its own from p, in process: for sim-only specs
// about holders the default card is not.
func simHolder(p profile.Profile) *holder {
	if issuer == nil {
		var err error
		issuer, err = simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
		Expect(err).NotTo(HaveOccurred())
	}
	iss, err := issuer.Issue(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(harness.NewInProcess(iss.Card), ginkgotrace.ForSpec())
	DeferCleanup(t.Close)
	c := jpki.New(t)
	Expect(c.SelectAP()).To(Succeed())
	return &holder{client: c, t: t, authPIN: jpki.PIN(p.PINs.Auth), signPIN: jpki.PIN(p.PINs.Sign)}
}
