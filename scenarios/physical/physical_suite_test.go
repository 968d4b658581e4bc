// Package physical_test runs what a physical test card allows
// (docs/physical-cards.md): read-only specs without a PIN, PIN-gated ones
// with the PINs it is given, the rules checkable on the card itself, the
// card-info applet with its PIN, revocation against the endpoints the user
// configures, and — with MYNAHIL_ALLOW_DESTRUCTIVE=1, the card's
// fingerprint and a pass of their own (--label-filter=destructive) — PIN
// changes that are set back and lockouts that the office, played by an
// operator (MYNAHIL_OPERATOR), re-sets.
//
// On a simulated target the same specs run against the simulated card,
// with the card as issued restored in place of the office: make rehearsal
// runs them through pcscd as a physical card, with the simulator's real
// office as the scripted operator.
package physical_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
)

func TestPhysical(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Physical test card")
}

var _ = runsummary.Register("Physical test card")

var tgt *target.Target

var _ = BeforeSuite(func() {
	tgt = framework.OpenTarget()
	if sc := framework.Sim(tgt); sc != nil && tgt.Operator() == nil {
		// No office stands behind a simulated target of its own: the card
		// as issued is what the office's re-set gives back.
		issued, err := sc.Snapshot()
		Expect(err).NotTo(HaveOccurred())
		tgt.SetOperator(operator.Func{Name: "the simulated card restored as issued", Fn: func(context.Context, operator.Step) error {
			return sc.Restore(issued)
		}})
	}
})

var _ = BeforeEach(func() { tgt.Guard() })

// session is the card through a traced transport (PINs masked in the
// trace), reset, with the JPKI applet selected.
type session struct {
	t    harness.Transport
	c    *jpkiclient.Client
	pins target.PINs
}

func open() *session {
	GinkgoHelper()
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
	Expect(harness.Reset(t)).To(Succeed())
	c := jpkiclient.New(t)
	Expect(c.SelectAP()).To(Succeed())
	return &session{t: t, c: c, pins: tgt.PINs()}
}

// pin is the value the run was given for ref.
func (s *session) pin(ref jpkiclient.PINRef) jpkiclient.PIN {
	if ref == jpkiclient.SignPIN {
		return s.pins.Sign
	}
	return s.pins.Auth
}
