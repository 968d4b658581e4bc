// Package cardinfoclient_test runs the independent harness client for the
// card-info applets (harness/cardinfoclient): the My Number and the four
// facts with the PIN and with 照合番号A/B, the integrity record, the card
// face and the status of all seven PINs (docs/card.md §3.2, §3.3, §4.2,
// §5).
//
// Specs on the card under test (onCard: the physical card the run names,
// or on a simulated target a card of the default profile treated as one
// whose values are unknown) check what holds on any card, with the secrets
// the run was given and those read from the card itself; cards the
// simulator's office issues from a known profile (newHolder: sim-only
// specs and entries) are compared with the profile's values too. Expected
// values come from the card, the profile and the client's own parsers,
// never from the simulator's encoder; failure messages on a physical card
// name what differs, never the holder's data.
package cardinfoclient_test

import (
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestCardinfoClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Card-info applets through the independent client")
}

// The run ends with one line: specs run, passed, skipped and why.
var _ = runsummary.Register("Card-info applets through the independent client")

// tgt is the physical card the run names; nil on a simulated target,
// where each spec has a card of its own from the world's office.
var tgt *target.Target

var _ = BeforeSuite(func() { tgt = framework.OpenPhysicalTarget() })

var _ = BeforeEach(func() {
	if tgt != nil {
		tgt.Guard()
	}
})

// holder is a card under test and what its holder knows.
type holder struct {
	c   *cardinfoclient.Client
	t   harness.Transport
	pin cardinfoclient.PIN
	// p is the profile a world card was issued from, with the codes and
	// expiry worked out by the client's own rules, not the simulator's;
	// nil for the target's card, whose values only the card knows.
	p        *profile.Profile
	myNumber cardinfoclient.MyNumber
	codeB    cardinfoclient.CodeB
	expiry   time.Time
	// securityCode is the code printed on the target's card ("" when not
	// given).
	securityCode string
	// textCA and visualCA certify EF 0004 of the text and visual applets
	// of a world card: the trust anchors the suite is given
	// (framework.World.CardInfoCAs).
	textCA, visualCA *rsa.PublicKey
	w                *framework.World
	card             *framework.Card
}

// onCard opens the card under test: the physical card, reset, traced with
// the holder's personal data hidden; on a simulated target a card of the
// default profile from the world's office, treated the same way — its
// values unknown to the spec, its secrets the ones a holder gives.
func onCard() *holder {
	GinkgoHelper()
	if tgt == nil {
		h := newHolder(profile.Default())
		h.p = nil
		return h
	}
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
	Expect(harness.Reset(t)).To(Succeed())
	return &holder{c: cardinfoclient.New(t), t: t, pin: tgt.PINs().CardInfo, securityCode: framework.SecurityCode()}
}

// newHolder has the world's office issue a card from p on its issue date
// and opens it through the target's transport, traced (VERIFY data masked)
// into the spec report: in process on sim, through the simulator daemon on
// vpcd and pcsc. For sim-only specs.
func newHolder(p profile.Profile) *holder {
	GinkgoHelper()
	w := framework.NewWorld(p.IssueDate.Add(10 * time.Hour))
	card, err := w.Office.IssueCard(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(w.Insert(card), ginkgotrace.ForSpec())
	birth := p.Holder.BirthDate.Time
	expiry := cardExpiry(birth, p.IssueDate.Time)
	codeB, err := cardinfoclient.NewCodeB(birth, expiry.Year(), p.SecurityCode)
	Expect(err).NotTo(HaveOccurred())
	textCA, visualCA := w.CardInfoCAs()
	return &holder{
		c: cardinfoclient.New(t), t: t, p: &p, pin: cardinfoclient.PIN(p.PINs.CardInfo),
		myNumber: cardinfoclient.MyNumber(p.MyNumber), codeB: codeB, expiry: expiry,
		securityCode: p.SecurityCode, textCA: textCA, visualCA: visualCA, w: w, card: card,
	}
}

// cardExpiry is the last day of an adult's card: the tenth birthday after
// issuance (docs/card.md §6: "valid 10 years (to a birthday)").
func cardExpiry(birth, issued time.Time) time.Time {
	y := issued.Year()
	if !time.Date(y, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC).After(time.Date(y, issued.Month(), issued.Day(), 0, 0, 0, 0, time.UTC)) {
		y++
	}
	return time.Date(y+9, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
}

// The target card's 照合番号B as built in this run, and whether the card
// refused it: a refused code is never sent again (docs/physical-cards.md).
var (
	cardCodeB    cardinfoclient.CodeB
	codeBRefused bool
)

// noteCodeB records the card's answer to code: a refusal of the target
// card's 照合番号B stops it being sent again.
func noteCodeB(code cardinfoclient.Code, err error) {
	if c, ok := code.(cardinfoclient.CodeB); ok && c == cardCodeB && errors.Is(err, apduclient.ErrWrongPIN) {
		codeBRefused = true
	}
}

// forget clears the keys verified in the text applet and leaves it
// selected: selecting another applet clears them, re-selecting the same one
// would not (docs/card.md §5.1).
func (h *holder) forget() {
	GinkgoHelper()
	Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
	Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
}

// facts reads the four facts with the card-info PIN, the text applet
// selected afresh before, and the keys forgotten after (forget).
func (h *holder) facts() *cardinfoclient.Facts {
	GinkgoHelper()
	Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
	f, err := h.c.Facts(h.pin)
	Expect(err).NotTo(HaveOccurred())
	h.forget()
	return f
}

// expiryDate is the card's expiry by GET DATA 00F2 at the MF level, right
// after a reset (docs/card.md §3.6).
func (h *holder) expiryDate() cardinfoclient.Date {
	GinkgoHelper()
	Expect(harness.Reset(h.t)).To(Succeed())
	r, err := h.c.Transmit(apduclient.Command{INS: 0xCA, P2: 0xF2, Ne: 256})
	Expect(err).NotTo(HaveOccurred())
	Expect(r.SW).To(Equal(uint16(0x9000)), "GET DATA 00F2")
	d, err := cardinfoclient.ParseDate(r.Data)
	Expect(err == nil).To(BeTrue(), "the card's expiry (GET DATA 00F2) is a date YYYYMMDD")
	return d
}

// codeA is 照合番号A: a world card's from its profile, the target card's
// My Number read with the card-info PIN.
func (h *holder) codeA() cardinfoclient.MyNumber {
	GinkgoHelper()
	if h.p != nil {
		return h.myNumber
	}
	Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
	n, err := h.c.MyNumber(h.pin)
	Expect(err).NotTo(HaveOccurred())
	Expect(n).To(BeValidMyNumber())
	h.forget()
	return n
}

// codeBOf is 照合番号B: a world card's from its profile, the target card's
// from the birth date (with the card-info PIN) and expiry it holds and the
// security code the run was given (NewCodeB). On the target's card both
// keys it opens must show every try first, and a code the card refused is
// not sent again.
func (h *holder) codeBOf() cardinfoclient.CodeB {
	GinkgoHelper()
	if h.p != nil {
		return h.codeB
	}
	if h.securityCode == "" {
		Skip("needs the security code: set " + framework.EnvSecurityCode + " to the 4 digits printed on the card")
	}
	if codeBRefused {
		Skip("照合番号B refused earlier in this run: never sent again")
	}
	st, err := h.c.PINStatus()
	Expect(err).NotTo(HaveOccurred())
	for _, k := range []cardinfoclient.Key{cardinfoclient.TextCodeB, cardinfoclient.VisualCodeB} {
		Expect(st).To(HaveTriesLeftOn(k, fresh.Of(k)), "照合番号B shows every try before it is sent")
	}
	birth := h.facts().BirthDate.Time(time.UTC)
	code, err := cardinfoclient.NewCodeB(birth, h.expiryDate().Year, h.securityCode)
	Expect(err).NotTo(HaveOccurred())
	cardCodeB = code
	return code
}
