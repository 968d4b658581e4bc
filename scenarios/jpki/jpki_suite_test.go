// Package jpki_test is the first lifecycle suite: the JPKI applet of a My
// Number Card as its holder's software uses it (jpki-card.md §4, §5;
// lifecycle-rules.md §1), through the independent harness client.
package jpki_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpki"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestJPKI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "JPKI applet")
}

var issuer *simcard.Issuer

var _ = BeforeSuite(func() {
	var err error
	issuer, err = simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	Expect(err).NotTo(HaveOccurred())
})

// holder is a card under test with what its holder knows.
type holder struct {
	client  *jpki.Client
	t       harness.Transport
	authPIN jpki.PIN
	signPIN jpki.PIN
}

// newHolder issues a card from p and opens it through a traced in-process
// transport; the trace is attached to the spec's report.
func newHolder(p profile.Profile) *holder {
	iss, err := issuer.Issue(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(harness.NewInProcess(iss.Card), ginkgotrace.ForSpec())
	DeferCleanup(t.Close)
	c := jpki.New(t)
	Expect(c.SelectAP()).To(Succeed())
	return &holder{client: c, t: t, authPIN: jpki.PIN(p.PINs.Auth), signPIN: jpki.PIN(p.PINs.Sign)}
}
