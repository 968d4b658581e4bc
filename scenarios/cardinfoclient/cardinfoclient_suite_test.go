// Package cardinfoclient_test runs the independent harness client for the
// card-info applets (harness/cardinfo) against cards issued by the
// simulator: the My Number and the four facts with the PIN and with
// 照合番号A/B, the integrity record, the card face and the status of all
// seven PINs (docs/card.md §3.2, §3.3, §4.2, §5). The simulator is reached
// through its public constructors only.
package cardinfoclient_test

import (
	"os"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardinfo"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/simcard"
	simci "github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestCardinfoClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Card-info applets through the independent client")
}

// issueDay is when every card of the suite is issued.
var issueDay = clock.Date(2026, time.April, 1)

var (
	issuer  *simcard.Issuer
	applets *simci.Applets // the card-info applet set the issuer writes, for its CA keys
)

var _ = BeforeSuite(func() {
	var err error
	issuer, err = simcard.NewIssuer(clock.NewVirtual(issueDay), nil)
	Expect(err).NotTo(HaveOccurred())
	// NewIssuer may already carry the card-info applets; a second set would
	// not be the one whose CA signed the cards' EF 0004.
	for _, x := range issuer.Extra {
		if a, ok := x.(*simci.Applets); ok {
			applets = a
		}
	}
	if applets == nil {
		applets, err = simci.New(nil)
		Expect(err).NotTo(HaveOccurred())
		issuer.Extra = append(issuer.Extra, applets)
	}
})

// holder is a card under test and what its holder knows, with the codes
// worked out by the client's own rules, not the simulator's.
type holder struct {
	c        *cardinfo.Client
	p        profile.Profile
	pin      cardinfo.PIN
	myNumber cardinfo.MyNumber
	codeB    cardinfo.CodeB
	expiry   time.Time
}

// newHolder issues a card from p and opens it through a traced in-process
// transport; the trace (VERIFY data masked) is attached to the spec report.
// The suite issues its own cards, so it runs on the in-process simulator
// only and skips on any other MYNAHIL_TARGET.
func newHolder(p profile.Profile) *holder {
	if t := os.Getenv("MYNAHIL_TARGET"); t != "" && !strings.EqualFold(t, "sim") {
		Skip("issues its own cards: sim-only (MYNAHIL_TARGET=" + t + ")")
	}
	iss, err := issuer.Issue(p)
	Expect(err).NotTo(HaveOccurred())
	t := harness.Traced(harness.NewInProcess(iss.Card), ginkgotrace.ForSpec())
	DeferCleanup(t.Close)
	birth := p.Holder.BirthDate.Time
	expiry := cardExpiry(birth, p.IssueDate.Time)
	codeB, err := cardinfo.NewCodeB(birth, expiry.Year(), p.SecurityCode)
	Expect(err).NotTo(HaveOccurred())
	return &holder{
		c: cardinfo.New(t), p: p, pin: cardinfo.PIN(p.PINs.CardInfo),
		myNumber: cardinfo.MyNumber(p.MyNumber), codeB: codeB, expiry: expiry,
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
