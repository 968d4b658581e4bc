package lifecycle_test

import (
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

// trigger is one row of the revocation table (docs/lifecycle-rules.md §1, §3):
// what the office does, what the card then holds (EF 0008), and what a
// relying party says of the card's previous certificates.
type trigger struct {
	act        func(w *world, c *framework.Card) error
	auth, sign relyingparty.Verdict
	// onCard: EF 0008 afterwards (sign, auth present).
	signOnCard, authOnCard bool
}

func changeFacts(edit func(f *profile.Facts)) func(w *world, c *framework.Card) error {
	return func(w *world, c *framework.Card) error {
		rep, err := w.Office.Report(c.ID)
		if err != nil {
			return err
		}
		f := rep.Holder
		edit(&f)
		return w.Office.ChangeFacts(c.ID, f)
	}
}

var (
	valid              = relyingparty.Valid{}
	affiliationChanged = relyingparty.Revoked{Reason: relyingparty.AffiliationChanged}
	cessation          = relyingparty.Revoked{Reason: relyingparty.CessationOfOperation}
	keyCompromise      = relyingparty.Revoked{Reason: relyingparty.KeyCompromise}
	superseded         = relyingparty.Revoked{Reason: relyingparty.Superseded}
	expired            = relyingparty.Expired{}
)

var _ = Describe("Every revocation trigger", speclabel.Of(speclabel.SimOnly), func() {
	DescribeTable("seen by the holder's client and by a relying party",
		func(tr trigger) {
			w := newWorld(at(2026, time.April, 1, 10))
			c, err := w.Office.IssueCard(profile.Default())
			Expect(err).NotTo(HaveOccurred())
			h := w.insert(c)
			authDER, signDER := h.authCert(), h.signCert("SIGN2026")
			Expect(authDER).NotTo(BeNil())
			Expect(signDER).NotTo(BeNil())

			w.Clock.AddDate(1, 0, 0)
			Expect(tr.act(w, c)).To(Succeed())

			h = w.insert(c)
			p := h.presence()
			Expect(p.Sign).To(Equal(tr.signOnCard), "EF 0008 byte 0 (signing certificate present)")
			Expect(p.Auth).To(Equal(tr.authOnCard), "EF 0008 byte 1 (auth certificate present)")
			if tr.authOnCard {
				Expect(h.authCert()).NotTo(BeNil(), "EF 000A readable")
			} else {
				Expect(h.authCert()).To(BeNil(), "EF 000A gone")
			}
			w.expectVerdict(authDER, tr.auth)
			w.expectVerdict(signDER, tr.sign)
		},
		Entry("change of name", trigger{act: changeFacts(func(f *profile.Facts) { f.Name = "改姓　花子" }),
			auth: valid, sign: affiliationChanged, authOnCard: true}),
		Entry("change of address", trigger{act: changeFacts(func(f *profile.Facts) { f.Address = "京都府京都市左京区試験町" }),
			auth: valid, sign: affiliationChanged, authOnCard: true}),
		Entry("correction of the date of birth", trigger{act: changeFacts(func(f *profile.Facts) { f.BirthDate = profile.NewDate(1990, time.January, 3) }),
			auth: valid, sign: affiliationChanged, authOnCard: true}),
		Entry("change of sex", trigger{act: changeFacts(func(f *profile.Facts) { f.Sex = profile.Unspecified }),
			auth: valid, sign: affiliationChanged, authOnCard: true}),
		Entry("a former surname added", trigger{act: changeFacts(func(f *profile.Facts) { f.FormerSurname = "旧姓" }),
			auth: valid, sign: affiliationChanged, authOnCard: true}),
		// Given up at the counter: the certificate stays on the chip, its
		// PIN blocked (docs/card.md §6.1).
		Entry("the holder gives up the signing certificate", trigger{act: func(w *world, c *framework.Card) error { return w.Office.RevokeCertificate(c.ID, framework.SignCert) },
			auth: valid, sign: cessation, signOnCard: true, authOnCard: true}),
		Entry("the holder gives up the auth certificate", trigger{act: func(w *world, c *framework.Card) error { return w.Office.RevokeCertificate(c.ID, framework.AuthCert) },
			auth: cessation, sign: valid, signOnCard: true, authOnCard: true}),
		Entry("card reported lost (the chip is elsewhere: left as it is)", trigger{act: func(w *world, c *framework.Card) error { return w.Office.ReportLoss(c.ID) },
			auth: keyCompromise, sign: keyCompromise, signOnCard: true, authOnCard: true}),
		Entry("death", trigger{act: func(w *world, c *framework.Card) error { return w.Office.RecordDeath(c.ID) },
			auth: cessation, sign: cessation}),
		Entry("moving abroad", trigger{act: func(w *world, c *framework.Card) error { return w.Office.MoveAbroad(c.ID) },
			auth: cessation, sign: cessation}),
		Entry("card invalidated", trigger{act: func(w *world, c *framework.Card) error { return w.Office.InvalidateCard(c.ID) },
			auth: cessation, sign: cessation}),
		Entry("renewal", trigger{act: func(w *world, c *framework.Card) error {
			w.Clock.Set(at(2030, time.October, 2, 9)) // expiry 2031-01-02, window from 2030-10-02
			return w.Office.Renew(c.ID, framework.RenewPINs{})
		}, auth: superseded, sign: superseded, signOnCard: true, authOnCard: true}),
		Entry("validity ends (not a revocation)", trigger{act: func(w *world, c *framework.Card) error {
			w.Clock.Set(at(2031, time.January, 3, 0))
			return nil
		}, auth: expired, sign: expired, signOnCard: true, authOnCard: true}),
	)
})
