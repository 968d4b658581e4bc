package lifecycle_test

import (
	"bytes"
	"crypto/x509"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

var _ = Describe("Validity to the 5th birthday after issuance", speclabel.Of(speclabel.SimOnly), func() {
	// The simulator's choices (rules.Birthday, rules.NthBirthdayAfter):
	// a 29 February birthday falls on 28 February in common years, and on
	// the day of issuance the birthday itself does not count, so issued on
	// a birthday the certificate runs exactly five years.
	DescribeTable("the certificate on the card ends at the end of the 5th birthday",
		func(birth, issued profile.Date, certEnd, cardEnd time.Time) {
			w := newWorld(issued.Add(10 * time.Hour))
			c, err := w.Office.IssueCard(person("期限　確認", birth, issued))
			Expect(err).NotTo(HaveOccurred())
			authDER := w.insert(c).authCert()
			cert, err := x509.ParseCertificate(authDER)
			Expect(err).NotTo(HaveOccurred())
			Expect(cert.NotAfter).To(BeTemporally("==", certEnd), "auth certificate notAfter")
			rep, err := w.Office.Report(c.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.CardExpiry).To(BeTemporally("==", cardEnd), "card expiry")

			w.Clock.Set(certEnd)
			w.expectVerdict(authDER, relyingparty.Valid{})
			w.Clock.Set(certEnd.Add(time.Second))
			w.expectVerdict(authDER, relyingparty.Expired{NotAfter: certEnd})
		},
		Entry("an ordinary adult", profile.NewDate(1990, time.January, 2), profile.NewDate(2026, time.April, 1),
			endOfDay(2031, time.January, 2), endOfDay(2036, time.January, 2)),
		Entry("issued on the birthday: exactly five years", profile.NewDate(1990, time.April, 1), profile.NewDate(2026, time.April, 1),
			endOfDay(2031, time.April, 1), endOfDay(2036, time.April, 1)),
		Entry("issued the day before the birthday", profile.NewDate(1990, time.April, 2), profile.NewDate(2026, time.April, 1),
			endOfDay(2030, time.April, 2), endOfDay(2035, time.April, 2)),
		Entry("born 29 February, 5th birthday in a common year: 28 February", profile.NewDate(1992, time.February, 29), profile.NewDate(2026, time.April, 1),
			endOfDay(2031, time.February, 28), endOfDay(2036, time.February, 29)),
		Entry("born 29 February, 5th birthday in a leap year: 29 February", profile.NewDate(1992, time.February, 29), profile.NewDate(2027, time.March, 1),
			endOfDay(2032, time.February, 29), endOfDay(2037, time.February, 28)),
		Entry("born 29 February, issued on 29 February", profile.NewDate(1992, time.February, 29), profile.NewDate(2028, time.February, 29),
			endOfDay(2033, time.February, 28), endOfDay(2038, time.February, 28)),
		Entry("a minor: card and certificates both to the 5th birthday", profile.NewDate(2016, time.July, 7), profile.NewDate(2026, time.April, 1),
			endOfDay(2030, time.July, 7), endOfDay(2030, time.July, 7)),
	)

	It("gives a child a signing certificate from the day they turn 15", func() {
		w := newWorld(at(2026, time.April, 1, 10))
		c, err := w.Office.IssueCard(person("少年　一郎", profile.NewDate(2012, time.May, 20), profile.NewDate(2026, time.April, 1)))
		Expect(err).NotTo(HaveOccurred())
		h := w.insert(c)
		Expect(h.presence().Raw).To(Equal([3]byte{0x00, 0x8F, 0x00}), "no signing certificate at 13")
		Expect(h.client.TriesLeft(jpkiclient.SignPIN)).To(Equal(0), "the sign PIN of a card without one answers 63C0")

		w.Clock.Set(at(2027, time.May, 19, 15))
		Expect(w.Office.IssueCertificate(c.ID, framework.SignCert, "TURNING15")).To(refusedBy(framework.RuleSignMinAge))

		w.Clock.Set(at(2027, time.May, 20, 9))
		Expect(w.Office.IssueCertificate(c.ID, framework.SignCert, "TURNING15")).To(Succeed())
		h = w.insert(c)
		Expect(h.presence().Raw).To(Equal([3]byte{0x8F, 0x8F, 0x00}))
		signDER := h.signCert("TURNING15")
		cert, err := x509.ParseCertificate(signDER)
		Expect(err).NotTo(HaveOccurred())
		// A card issued at 13 runs to the 5th birthday after issuance, and the certificate never outlives it.
		Expect(cert.NotAfter).To(BeTemporally("==", endOfDay(2030, time.May, 20)))
		w.expectVerdict(signDER, relyingparty.Valid{})
	})

	It("keeps adults under guardianship without a signing certificate", func() {
		w := newWorld(at(2026, time.April, 1, 10))
		p := profile.Default()
		p.UnderGuardianship = true
		c, err := w.Office.IssueCard(p)
		Expect(err).NotTo(HaveOccurred())
		Expect(w.insert(c).presence().Raw).To(Equal([3]byte{0x00, 0x8F, 0x00}))
		Expect(w.Office.IssueCertificate(c.ID, framework.SignCert, "GUARD123")).To(refusedBy(framework.RuleGuardianship))
	})
})

var _ = Describe("Smartphone certificates", Ordered, speclabel.Of(speclabel.SimOnly), func() {
	var (
		w              *world
		c              *framework.Card
		phone          *framework.Smartphone
		cardAuth, card []byte
	)

	BeforeAll(func() {
		w = newWorld(at(2026, time.April, 1, 10))
		var err error
		c, err = w.Office.IssueCard(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		h := w.insert(c)
		cardAuth, card = h.authCert(), h.signCert("SIGN2026")
	})

	It("are issued from a card with a valid signing certificate and expire with it", func() {
		w.Clock.AddDate(0, 1, 0)
		var err error
		phone, err = w.Office.IssueSmartphone(c.ID)
		Expect(err).NotTo(HaveOccurred())
		cardCert, _ := x509.ParseCertificate(card)
		for _, der := range [][]byte{phone.Sign, phone.Auth} {
			cert, err := x509.ParseCertificate(der)
			Expect(err).NotTo(HaveOccurred())
			Expect(cert.NotAfter).To(BeTemporally("==", cardCert.NotAfter))
			w.expectVerdict(der, relyingparty.Valid{})
		}
		Expect(bytes.Equal(phone.Sign, card)).To(BeFalse())
	})

	It("lose the signing one when the card's is revoked, and keep the auth one", func() {
		w.Clock.AddDate(0, 1, 0)
		rep, _ := w.Office.Report(c.ID)
		f := rep.Holder
		f.Address = "福岡県福岡市中央区試験町"
		Expect(w.Office.ChangeFacts(c.ID, f)).To(Succeed())
		w.expectVerdict(card, affiliationChanged)
		w.expectVerdict(phone.Sign, relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: w.Clock.Now()})
		w.expectVerdict(phone.Auth, relyingparty.Valid{})
		_, err := w.Office.IssueSmartphone(c.ID)
		Expect(err).To(refusedBy(framework.RuleSmartphoneSign), "no card signing certificate, no smartphone")
	})

	It("are not renewed with the card's: renewal revokes them", func() {
		Expect(w.Office.IssueCertificate(c.ID, framework.SignCert, "FUKUOKA26")).To(Succeed())
		w.Clock.Set(at(2030, time.October, 2, 9)) // the auth certificate's window
		Expect(w.Office.Renew(c.ID, framework.RenewPINs{})).To(Succeed())
		w.expectVerdict(cardAuth, superseded)
		w.expectVerdict(phone.Auth, superseded)
		rep, err := w.Office.Report(c.ID)
		Expect(err).NotTo(HaveOccurred())
		got := rep.Certificate(framework.AuthCert, framework.OnSmartphone)
		Expect(got.DER).To(Equal(phone.Auth), "no new smartphone certificate appeared")
		Expect(got.State).To(Equal("revoked"))
	})
})
