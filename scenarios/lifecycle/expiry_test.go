package lifecycle_test

import (
	"bytes"
	"crypto/x509"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/jpki"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

var _ = Describe("Validity to the 5th birthday after issuance", Label("sim-only"), func() {
	// The simulator's choices (rules.Birthday, rules.NthBirthdayAfter):
	// a 29 February birthday falls on 28 February in common years, and on
	// the day of issuance the birthday itself does not count, so issued on
	// a birthday the certificate runs exactly five years.
	DescribeTable("the certificate on the card ends at the end of the 5th birthday",
		func(birth, issued profile.Date, certEnd, cardEnd time.Time) {
			w := newWorld(issued.Add(10 * time.Hour))
			c, err := w.office.IssueCard(person("期限　確認", birth, issued))
			Expect(err).NotTo(HaveOccurred())
			authDER := insert(c).authCert()
			cert, err := x509.ParseCertificate(authDER)
			Expect(err).NotTo(HaveOccurred())
			Expect(cert.NotAfter).To(BeTemporally("==", certEnd), "auth certificate notAfter")
			rep, err := w.office.Report(c.ID)
			Expect(err).NotTo(HaveOccurred())
			Expect(rep.CardExpiry).To(BeTemporally("==", cardEnd), "card expiry")

			w.clock.Set(certEnd)
			w.expectVerdict(authDER, relyingparty.Valid{})
			w.clock.Set(certEnd.Add(time.Second))
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
		c, err := w.office.IssueCard(person("少年　一郎", profile.NewDate(2012, time.May, 20), profile.NewDate(2026, time.April, 1)))
		Expect(err).NotTo(HaveOccurred())
		h := insert(c)
		Expect(h.presence().Raw).To(Equal([3]byte{0x00, 0x8F, 0x00}), "no signing certificate at 13")
		Expect(h.client.TriesLeft(jpki.SignPIN)).To(Equal(0), "the sign PIN of a card without one answers 63C0")

		w.clock.Set(at(2027, time.May, 19, 15))
		Expect(w.office.IssueCertificate(c.ID, authority.Sign, "TURNING15")).To(refusedBy(office.RuleSignMinAge))

		w.clock.Set(at(2027, time.May, 20, 9))
		Expect(w.office.IssueCertificate(c.ID, authority.Sign, "TURNING15")).To(Succeed())
		h = insert(c)
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
		c, err := w.office.IssueCard(p)
		Expect(err).NotTo(HaveOccurred())
		Expect(insert(c).presence().Raw).To(Equal([3]byte{0x00, 0x8F, 0x00}))
		Expect(w.office.IssueCertificate(c.ID, authority.Sign, "GUARD123")).To(refusedBy(office.RuleGuardianship))
	})
})

var _ = Describe("Smartphone certificates", Ordered, Label("sim-only"), func() {
	var (
		w              *world
		c              *office.Card
		phone          *office.Smartphone
		cardAuth, card []byte
	)

	BeforeAll(func() {
		w = newWorld(at(2026, time.April, 1, 10))
		var err error
		c, err = w.office.IssueCard(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		h := insert(c)
		cardAuth, card = h.authCert(), h.signCert("SIGN2026")
	})

	It("are issued from a card with a valid signing certificate and expire with it", func() {
		w.clock.AddDate(0, 1, 0)
		var err error
		phone, err = w.office.IssueSmartphone(c.ID)
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
		w.clock.AddDate(0, 1, 0)
		rep, _ := w.office.Report(c.ID)
		f := rep.Holder
		f.Address = "福岡県福岡市中央区試験町"
		Expect(w.office.ChangeFacts(c.ID, f)).To(Succeed())
		w.expectVerdict(card, affiliationChanged)
		w.expectVerdict(phone.Sign, relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: w.clock.Now()})
		w.expectVerdict(phone.Auth, relyingparty.Valid{})
		_, err := w.office.IssueSmartphone(c.ID)
		Expect(err).To(refusedBy(office.RuleSmartphoneSign), "no card signing certificate, no smartphone")
	})

	It("are not renewed with the card's: renewal revokes them", func() {
		Expect(w.office.IssueCertificate(c.ID, authority.Sign, "FUKUOKA26")).To(Succeed())
		w.clock.Set(at(2030, time.October, 2, 9)) // the auth certificate's window
		Expect(w.office.Renew(c.ID, office.RenewPINs{})).To(Succeed())
		w.expectVerdict(cardAuth, superseded)
		w.expectVerdict(phone.Auth, superseded)
		rep, err := w.office.Report(c.ID)
		Expect(err).NotTo(HaveOccurred())
		got := rep.Certificate(authority.Auth, authority.Smartphone)
		Expect(got.DER).To(Equal(phone.Auth), "no new smartphone certificate appeared")
		Expect(got.State).To(Equal("revoked"))
	})
})
