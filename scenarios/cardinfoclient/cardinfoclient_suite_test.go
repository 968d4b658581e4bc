// Package cardinfoclient_test runs the independent harness client for the
// card-info applets (harness/cardinfoclient) against cards issued by the
// simulator: the My Number and the four facts with the PIN and with
// 照合番号A/B, the integrity record, the card face and the status of all
// seven PINs (docs/card.md §3.2, §3.3, §4.2, §5). Expected values come from
// the card's profile and the client's own parsers, never from the
// simulator's encoder. The cards come from the world of scenarios/framework,
// so the suite runs on sim, vpcd and pcsc alike.
package cardinfoclient_test

import (
	"crypto/rsa"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/runsummary"
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

// holder is a card under test and what its holder knows, with the codes
// worked out by the client's own rules, not the simulator's.
type holder struct {
	c        *cardinfoclient.Client
	t        harness.Transport
	p        profile.Profile
	pin      cardinfoclient.PIN
	myNumber cardinfoclient.MyNumber
	codeB    cardinfoclient.CodeB
	expiry   time.Time
	// textCA and visualCA certify EF 0004 of the text and visual applets:
	// the trust anchors the suite is given (framework.World.CardInfoCAs).
	textCA, visualCA *rsa.PublicKey
	w                *framework.World
	card             *framework.Card
}

// newHolder has the world's office issue a card from p on its issue date
// and opens it through the target's transport, traced (VERIFY data masked)
// into the spec report: in process on sim, through the simulator daemon on
// vpcd and pcsc.
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
		c: cardinfoclient.New(t), t: t, p: p, pin: cardinfoclient.PIN(p.PINs.CardInfo),
		myNumber: cardinfoclient.MyNumber(p.MyNumber), codeB: codeB, expiry: expiry,
		textCA: textCA, visualCA: visualCA, w: w, card: card,
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
