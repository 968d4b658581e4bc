// Package counter_test runs the steps of a card's life that a person can do
// at a real municipal counter (docs/physical-cards.md, "Counter steps"):
// unlocking a blocked PIN, re-setting the card-info PIN, giving up a
// certificate and having it issued anew, and a loss report followed by the
// card found. Each step is asked of the operator (target.AtCounter): on a
// physical card a person (MYNAHIL_OPERATOR=terminal), in the rehearsal the
// simulator's office through its control API; on a simulated target the
// world's office (framework.World.Counter). What the suite checks holds on
// any card: the card's own answers, and what a relying party
// (harness/relyingparty) sees at the CRL and OCSP endpoints it is given.
//
// Every spec is destructive and interactive: on a physical card it runs
// only with the destructive opt-in and the card's fingerprint, in the
// destructive pass, with an operator. Every change is undone by a cleanup
// registered before it (a BeforeAll of its container that does no I/O):
// a blocked PIN is re-set at the counter, a certificate given up is issued
// anew, a lost card is reported found. A PIN goes to the card only when it
// shows every try. The suite runs in one Ordered container, so the steps
// that issue the auth certificate anew (and so change the card's
// fingerprint) come last; run it after the other suites (make rehearsal and
// make physical-card list it last).
package counter_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestCounter(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "At the counter")
}

var _ = runsummary.Register("At the counter")

// tgt is the physical card the run names; nil on a simulated target, where
// the world's office issues the card and does the counter steps.
var tgt *target.Target

var _ = BeforeSuite(func() { tgt = framework.OpenPhysicalTarget() })

var _ = BeforeEach(func() {
	if tgt != nil {
		tgt.Guard()
	}
})

// desk is the card under test and the counter beside it.
type desk struct {
	pins target.PINs
	// world and card: a simulated target's card from the world's office.
	world *framework.World
	card  *framework.Card
	op    operator.Operator
	// inProcess is the world card's in-process transport on the sim
	// target, opened once (cleanups may not open one).
	inProcess harness.Transport
}

// newDesk opens the card and its counter: the physical card and the
// run's operator, or a card the world's office issues (profile.Default,
// whose PINs a holder gives) with the world's office as the operator.
func newDesk() *desk {
	GinkgoHelper()
	if tgt != nil {
		return &desk{pins: tgt.PINs()}
	}
	p := profile.Default()
	w := framework.NewWorld(p.IssueDate.Time.Add(10 * time.Hour))
	c, err := w.Office.IssueCard(p)
	Expect(err).NotTo(HaveOccurred())
	d := &desk{
		pins:  target.PINs{Auth: jpkiclient.PIN(p.PINs.Auth), Sign: jpkiclient.PIN(p.PINs.Sign), CardInfo: jpkiclient.PIN(p.PINs.CardInfo)},
		world: w, card: c, op: w.Counter(c),
	}
	if w.Kind == target.Sim {
		d.inProcess = w.Insert(c)
	}
	return d
}

// open is the card through a traced transport, reset (PINs masked; on a
// physical card the holder's personal data hidden too).
func (d *desk) open() harness.Transport {
	GinkgoHelper()
	if tgt != nil {
		t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
		Expect(harness.Reset(t)).To(Succeed())
		return t
	}
	if d.inProcess != nil {
		t := harness.Traced(d.inProcess, ginkgotrace.ForSpec())
		Expect(harness.Reset(t)).To(Succeed())
		return t
	}
	return harness.Traced(d.world.Insert(d.card), ginkgotrace.ForSpec())
}

// bare is the card without a trace, reset: for cleanups, in which no
// trace can be attached to the spec's report.
func (d *desk) bare() harness.Transport {
	GinkgoHelper()
	var t harness.Transport
	switch {
	case tgt != nil:
		t = tgt.Transport()
	case d.inProcess != nil:
		t = d.inProcess
	default:
		return d.world.Insert(d.card)
	}
	Expect(harness.Reset(t)).To(Succeed())
	return t
}

// jpki is the JPKI applet of the card, selected; jpkiOn the same on t.
func (d *desk) jpki() *jpkiclient.Client {
	GinkgoHelper()
	return jpkiOn(d.open())
}

func jpkiOn(t harness.Transport) *jpkiclient.Client {
	GinkgoHelper()
	c := jpkiclient.New(t)
	Expect(c.SelectAP()).To(Succeed())
	return c
}

// atCounter has the operator do step a (for the certificate or PIN ref)
// and waits for it.
func (d *desk) atCounter(a operator.Action, ref jpkiclient.PINRef) error {
	if tgt != nil {
		return tgt.AtCounter(a, ref)
	}
	s := operator.Step{Action: a, PIN: ref, Value: d.pin(ref), Reader: "the world's reader"}
	switch a {
	case operator.ResetCardInfoPIN:
		s.Value = d.pins.CardInfo
	case operator.CardFound:
		s.Value, s.SignValue = d.pins.Auth, d.pins.Sign
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return d.op.Do(ctx, s)
}

// pin is the run's value of a JPKI PIN.
func (d *desk) pin(ref jpkiclient.PINRef) jpkiclient.PIN {
	if ref == jpkiclient.SignPIN {
		return d.pins.Sign
	}
	return d.pins.Auth
}

// needPIN skips the spec, with the guard's reason, when the run was not
// given ref: for specs that follow a step which may leave the PIN blocked,
// and so carry no needs-PIN label (the guard skips those on a blocked PIN).
func (d *desk) needPIN(ref jpkiclient.PINRef) {
	if d.pin(ref) == "" {
		env := map[jpkiclient.PINRef]string{jpkiclient.AuthPIN: target.EnvAuthPIN, jpkiclient.SignPIN: target.EnvSignPIN}[ref]
		Skip(fmt.Sprintf("needs the %s: set %s or answer the prompt", ref, env))
	}
}

// The revocation endpoints of a physical card's CAs (docs/physical-cards.md,
// "Revocation endpoints"); a simulated target's world knows its own.
const (
	EnvAuthCRL  = "MYNAHIL_AUTH_CRL_URL"
	EnvAuthOCSP = "MYNAHIL_AUTH_OCSP_URL"
	EnvSignCRL  = "MYNAHIL_SIGN_CRL_URL"
	EnvSignOCSP = "MYNAHIL_SIGN_OCSP_URL"
)

// needEndpoints skips the spec on a physical card when a revocation
// endpoint is not given.
func needEndpoints() {
	if tgt == nil {
		return
	}
	for _, env := range []string{EnvAuthCRL, EnvAuthOCSP, EnvSignCRL, EnvSignOCSP} {
		if os.Getenv(env) == "" {
			Skip(fmt.Sprintf("needs a revocation endpoint: set %s", env))
		}
	}
}

// verdict is what a relying party sees for a certificate of the card by
// method m: at the endpoints the run was given, the CA read from the card
// (physical), or at the world's authority.
func (d *desk) verdict(kind jpkiclient.Cert, der []byte, m relyingparty.Method) relyingparty.Verdict {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v := d.verifier(kind, der)
	got, err := v.Verify(ctx, der, m)
	Expect(err).NotTo(HaveOccurred(), "asking the relying party by %s", m)
	return got
}

func (d *desk) verifier(kind jpkiclient.Cert, der []byte) *relyingparty.Verifier {
	GinkgoHelper()
	if tgt == nil {
		return d.world.RP
	}
	caKind, crl, ocsp := jpkiclient.AuthCACert, EnvAuthCRL, EnvAuthOCSP
	if kind == jpkiclient.SignCert {
		caKind, crl, ocsp = jpkiclient.SignCACert, EnvSignCRL, EnvSignOCSP
	}
	ca, _, err := d.jpki().ReadCertificate(caKind)
	Expect(err).NotTo(HaveOccurred(), "reading the %v", caKind)
	cert, err := x509.ParseCertificate(der)
	Expect(err).NotTo(HaveOccurred())
	root := relyingparty.Root{Cert: ca, CRLURL: os.Getenv(crl), OCSPURL: os.Getenv(ocsp)}
	return &relyingparty.Verifier{Roots: []relyingparty.Root{root}, Now: nowWithin(cert)}
}

// nowWithin is the relying party's clock on a physical path: the wall
// clock when it falls in the certificate's validity, else a moment inside
// it (a simulated card standing in for a physical one may be issued on a
// date of its profile).
func nowWithin(c *x509.Certificate) func() time.Time {
	return func() time.Time {
		if now := time.Now(); now.After(c.NotBefore) && now.Before(c.NotAfter) {
			return now
		}
		return c.NotBefore.Add(time.Hour)
	}
}
