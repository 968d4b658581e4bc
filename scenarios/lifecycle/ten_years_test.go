package lifecycle_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

// at is a JST moment: midnight plus hours.
func at(y int, m time.Month, d int, hours int) time.Time {
	return framework.Date(y, m, d).Add(time.Duration(hours) * time.Hour)
}

func endOfDay(y int, m time.Month, d int) time.Time {
	return framework.Date(y, m, d).Add(24*time.Hour - time.Second)
}

var _ = Describe("A resident's ten years", Ordered, speclabel.Of(speclabel.SimOnly), func() {
	// Born 1996-03-10, the card issued 2026-04-01 at 30: the card runs to the
	// 10th birthday after issuance (2036-03-10), the certificates to the 5th
	// (2031-03-10) (docs/lifecycle-rules.md §3).
	var (
		w        *world
		c        *framework.Card
		signPIN  = "SIGN2026"
		authPIN  = "1234"
		authDER  []byte // the current certificates as the card holds them
		signDER  []byte
		oldAuths [][]byte
		oldSigns [][]byte
	)

	BeforeAll(func() {
		w = newWorld(at(2026, time.April, 1, 10))
		DeferCleanup(func() { w.Timeline.Report("timeline") })
	})

	It("issues the card at 30 with both certificates", func() {
		p := person("生涯　太郎", profile.NewDate(1996, time.March, 10), profile.NewDate(2026, time.April, 1))
		p.Holder.Sex = profile.Male
		var err error
		c, err = w.Office.IssueCard(p)
		Expect(err).NotTo(HaveOccurred())
		h := w.insert(c)
		Expect(h.presence().Raw).To(Equal([3]byte{0x8F, 0x8F, 0x00}))
		authDER, signDER = h.authCert(), h.signCert(signPIN)
		for _, der := range [][]byte{authDER, signDER} {
			cert, err := x509.ParseCertificate(der)
			Expect(err).NotTo(HaveOccurred())
			Expect(cert.NotAfter).To(BeTemporally("==", endOfDay(2031, time.March, 10)))
			w.expectVerdict(der, relyingparty.Valid{})
		}
		w.Timeline.Add("card %s issued to 生涯 太郎 (30): auth and sign certificates valid to 2031-03-10, card to 2036-03-10", c.ID)
	})

	It("serves daily use: logging in and signing", func() {
		w.Clock.AddDate(0, 0, 20)
		h := w.insert(c)
		digest := sha256.Sum256([]byte("e-Tax return 2026"))
		for _, u := range []struct {
			key  jpkiclient.Key
			pin  jpkiclient.PINRef
			val  string
			der  []byte
			what string
		}{{jpkiclient.AuthKey, jpkiclient.AuthPIN, authPIN, authDER, "logged in to Mynaportal"}, {jpkiclient.SignKey, jpkiclient.SignPIN, signPIN, signDER, "signed an e-Tax return"}} {
			Expect(h.client.SelectAP()).To(Succeed())
			Expect(h.client.VerifyPIN(u.pin, jpkiclient.PIN(u.val))).To(Succeed())
			sig, err := h.client.Sign(u.key, digest[:], crypto.SHA256)
			Expect(err).NotTo(HaveOccurred())
			cert, _ := x509.ParseCertificate(u.der)
			Expect(rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig)).To(Succeed())
			w.expectVerdict(u.der, relyingparty.Valid{})
			w.Timeline.Add("%s; the relying party finds the certificate valid (CRL and OCSP)", u.what)
		}
	})

	It("locks the sign PIN after 5 wrong tries", func() {
		w.Clock.Set(at(2027, time.February, 1, 9))
		h := w.insert(c)
		for left := 4; left >= 0; left-- {
			Expect(h.client.VerifyPIN(jpkiclient.SignPIN, "WRONG1")).To(MatchError(apduclient.ErrWrongPIN))
		}
		Expect(h.client.TriesLeft(jpkiclient.SignPIN)).To(Equal(0))
		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, jpkiclient.PIN(signPIN))).NotTo(Succeed(), "a locked PIN refuses even the right value")
		Expect(h.client.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3), "the auth PIN is separate")
		rep, err := w.Office.Report(c.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.SignTriesLeft).To(Equal(0))
		w.Timeline.Add("sign PIN locked after 5 wrong tries (auth PIN untouched: 3 left)")
	})

	It("has the office re-set the sign PIN", func() {
		w.Clock.AddDate(0, 0, 1)
		signPIN = "NEWSIGN27"
		Expect(w.Office.ResetPIN(c.ID, framework.SignCert, signPIN)).To(Succeed())
		h := w.insert(c)
		Expect(h.client.TriesLeft(jpkiclient.SignPIN)).To(Equal(5))
		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, "SIGN2026")).To(MatchError(apduclient.ErrWrongPIN), "the old PIN is gone")
		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, jpkiclient.PIN(signPIN))).To(Succeed())
		Expect(h.signCert(signPIN)).To(Equal(signDER), "re-setting a PIN keeps the certificate")
		w.Timeline.Add("office re-sets the sign PIN: 5 tries, same certificate")
	})

	It("moves house: the signing certificate is revoked, the auth one stays valid", func() {
		w.Clock.Set(at(2027, time.June, 1, 11))
		rep, _ := w.Office.Report(c.ID)
		f := rep.Holder
		f.Address = "神奈川県横浜市中区試験町三丁目"
		Expect(w.Office.ChangeFacts(c.ID, f)).To(Succeed())
		h := w.insert(c)
		p := h.presence()
		Expect(p.Sign).To(BeFalse(), "EF 0008 no longer lists the signing certificate")
		Expect(p.Auth).To(BeTrue())
		Expect(h.authCert()).To(Equal(authDER))
		w.expectVerdict(signDER, relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: w.Clock.Now()})
		w.expectVerdict(authDER, relyingparty.Valid{})
		oldSigns = append(oldSigns, signDER)
		w.Timeline.Add("moves to 神奈川県横浜市: sign certificate revoked (affiliationChanged) and taken off the card; auth certificate valid")
	})

	It("gets a new signing certificate with the new address and new keys", func() {
		w.Clock.AddDate(0, 0, 1)
		signPIN = "MOVED2027"
		Expect(w.Office.IssueCertificate(c.ID, framework.SignCert, signPIN)).To(Succeed())
		h := w.insert(c)
		Expect(h.presence().Raw).To(Equal([3]byte{0x8F, 0x8F, 0x00}))
		signDER = h.signCert(signPIN)
		Expect(signDER).NotTo(Equal(oldSigns[0]))
		Expect(bytes.Contains(signDER, []byte("神奈川県横浜市中区試験町三丁目"))).To(BeTrue(), "the new certificate carries the new address")
		newCert, _ := x509.ParseCertificate(signDER)
		oldCert, _ := x509.ParseCertificate(oldSigns[0])
		Expect(newCert.RawSubjectPublicKeyInfo).NotTo(Equal(oldCert.RawSubjectPublicKeyInfo), "new keys")
		Expect(newCert.NotAfter).To(BeTemporally("==", endOfDay(2032, time.March, 10)))
		w.expectVerdict(signDER, relyingparty.Valid{})
		w.expectVerdict(oldSigns[0], relyingparty.Revoked{Reason: relyingparty.AffiliationChanged})
		w.Timeline.Add("new sign certificate #%s with the new address, valid to 2032-03-10", newCert.SerialNumber)
	})

	It("refuses renewal the day before the window opens", func() {
		w.Clock.Set(at(2030, time.December, 9, 16))
		err := w.Office.Renew(c.ID, framework.RenewPINs{})
		Expect(err).To(refusedBy(framework.RuleRenewalWindow))
		Expect(err.Error()).To(ContainSubstring("2030-12-10"))
		w.Timeline.Add("renewal refused: %v", err)
	})

	It("renews the auth certificate when its window opens; the old one is superseded", func() {
		w.Clock.Set(at(2030, time.December, 10, 9))
		Expect(w.Office.Renew(c.ID, framework.RenewPINs{})).To(Succeed())
		h := w.insert(c)
		newAuth := h.authCert()
		Expect(newAuth).NotTo(Equal(authDER))
		w.expectVerdict(authDER, relyingparty.Revoked{Reason: relyingparty.Superseded, Time: w.Clock.Now()})
		w.expectVerdict(newAuth, relyingparty.Valid{})
		Expect(h.signCert(signPIN)).To(Equal(signDER), "the sign certificate's window is not open yet")
		oldAuths = append(oldAuths, authDER)
		authDER = newAuth
		cert, _ := x509.ParseCertificate(authDER)
		Expect(cert.NotAfter).To(BeTemporally("==", endOfDay(2035, time.March, 10)))
		w.Timeline.Add("auth certificate renewed (#%s, to 2035-03-10); the old one revoked (superseded)", cert.SerialNumber)
	})

	It("renews the sign certificate in its own window, capped at the card's expiry", func() {
		w.Clock.Set(at(2031, time.December, 10, 9))
		Expect(w.Office.Renew(c.ID, framework.RenewPINs{})).To(Succeed())
		h := w.insert(c)
		newSign := h.signCert(signPIN)
		Expect(newSign).NotTo(Equal(signDER))
		w.expectVerdict(signDER, relyingparty.Revoked{Reason: relyingparty.Superseded, Time: w.Clock.Now()})
		w.expectVerdict(newSign, relyingparty.Valid{})
		oldSigns = append(oldSigns, signDER)
		signDER = newSign
		cert, _ := x509.ParseCertificate(signDER)
		Expect(cert.NotAfter).To(BeTemporally("==", endOfDay(2036, time.March, 10)))
		w.Timeline.Add("sign certificate renewed (#%s, to the card's expiry 2036-03-10); the old one superseded", cert.SerialNumber)

		w.Clock.Set(at(2034, time.December, 10, 9))
		Expect(w.Office.Renew(c.ID, framework.RenewPINs{})).To(Succeed())
		next := w.insert(c).authCert()
		w.expectVerdict(authDER, relyingparty.Revoked{Reason: relyingparty.Superseded})
		oldAuths = append(oldAuths, authDER)
		authDER = next
		w.Timeline.Add("auth certificate renewed once more, to 2036-03-10")
	})

	It("ends with the card: valid on its last day, expired the next", func() {
		w.Clock.Set(endOfDay(2036, time.March, 10))
		for _, der := range [][]byte{authDER, signDER} {
			w.expectVerdict(der, relyingparty.Valid{})
		}
		w.Clock.Advance(time.Second)
		for _, der := range [][]byte{authDER, signDER} {
			w.expectVerdict(der, relyingparty.Expired{NotAfter: endOfDay(2036, time.March, 10)})
		}
		for _, der := range append(oldAuths, oldSigns...) {
			crl, ocsp := w.verdicts(der)
			Expect([]relyingparty.Verdict{crl, ocsp}).To(HaveEach(BeAssignableToTypeOf(relyingparty.Expired{})), "old certificates have expired too")
		}
		Expect(w.Office.Renew(c.ID, framework.RenewPINs{})).To(refusedBy(framework.RuleCardExpired))
		Expect(w.Office.IssueCertificate(c.ID, framework.AuthCert, "1234")).To(refusedBy(framework.RuleCardExpired))
		w.Timeline.Add("card expired at the end of 2036-03-10: relying parties see expired certificates; the office asks for a new card")
	})
})
