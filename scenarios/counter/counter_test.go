package counter_test

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/harness/speclabel"
)

var (
	needsAuthPIN = speclabel.Of(speclabel.NeedsAuthPIN)
	needsSignPIN = speclabel.Of(speclabel.NeedsSignPIN)
	needsCIPIN   = speclabel.Of(speclabel.NeedsCardInfoPIN)
	bothPINs     = speclabel.Of(speclabel.NeedsAuthPIN, speclabel.NeedsSignPIN)
)

// other is a value of the same format as p that differs from it in the
// last character: a wrong PIN that is never the right one.
func other(p jpkiclient.PIN) jpkiclient.PIN {
	b := []byte(p)
	if len(b) == 0 {
		return "0000"
	}
	last := &b[len(b)-1]
	switch {
	case *last >= '0' && *last <= '9':
		*last = '0' + (*last-'0'+1)%10
	case *last >= 'A' && *last <= 'Z':
		*last = 'A' + (*last-'A'+1)%26
	}
	return jpkiclient.PIN(b)
}

// keyOf is the key a PIN guards, certOf the certificate of that key.
func keyOf(ref jpkiclient.PINRef) jpkiclient.Key {
	if ref == jpkiclient.SignPIN {
		return jpkiclient.SignKey
	}
	return jpkiclient.AuthKey
}

func certOf(ref jpkiclient.PINRef) jpkiclient.Cert {
	if ref == jpkiclient.SignPIN {
		return jpkiclient.SignCert
	}
	return jpkiclient.AuthCert
}

// readCert reads the certificate ref guards (verifying the sign PIN first
// for the signing one).
func readCert(c *jpkiclient.Client, d *desk, ref jpkiclient.PINRef) (*x509.Certificate, []byte) {
	GinkgoHelper()
	if ref == jpkiclient.SignPIN {
		Expect(c.VerifyPIN(jpkiclient.SignPIN, d.pins.Sign)).To(Succeed())
	}
	cert, der, err := c.ReadCertificate(certOf(ref))
	Expect(err).NotTo(HaveOccurred(), "reading the %v", certOf(ref))
	return cert, der
}

// signsWith verifies ref with the run's PIN and signs with its key,
// verifiable with cert.
func signsWith(c *jpkiclient.Client, d *desk, ref jpkiclient.PINRef, cert *x509.Certificate) {
	GinkgoHelper()
	Expect(c.VerifyPIN(ref, d.pin(ref))).To(Succeed())
	digest := sha256.Sum256([]byte("at the counter: " + ref.String()))
	sig, err := c.Sign(keyOf(ref), digest[:], crypto.SHA256)
	Expect(err).NotTo(HaveOccurred())
	Expect(sig).To(VerifySignature(cert, digest[:], crypto.SHA256))
}

// expectRevoked: CRL and OCSP both say revoked; on a simulated card with
// the reason its office gives (docs/lifecycle-rules.md); a physical card's
// authority may word it otherwise.
func (d *desk) expectRevoked(kind jpkiclient.Cert, der []byte, reason relyingparty.Reason) {
	GinkgoHelper()
	for _, m := range []relyingparty.Method{relyingparty.CRL, relyingparty.OCSP} {
		v := d.verdict(kind, der, m)
		Expect(v).To(BeAssignableToTypeOf(relyingparty.Revoked{}), "%v by %s", kind, m)
		if tgt == nil {
			Expect(v.(relyingparty.Revoked).Reason).To(Equal(reason), "%v by %s", kind, m)
		}
	}
}

func (d *desk) expectValid(kind jpkiclient.Cert, der []byte) {
	GinkgoHelper()
	for _, m := range []relyingparty.Method{relyingparty.CRL, relyingparty.OCSP} {
		Expect(d.verdict(kind, der, m)).To(Equal(relyingparty.Valid{}), "%v by %s", kind, m)
	}
}

// One Ordered container: the steps that issue the auth certificate anew
// come last (the suite's doc comment says why).
var _ = Describe("At the counter", Ordered, ContinueOnFailure, speclabel.Of(speclabel.Destructive, speclabel.Interactive), func() {
	var d *desk
	BeforeAll(func() { d = newDesk() })

	for _, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
		labels := needsAuthPIN
		if ref == jpkiclient.SignPIN {
			labels = needsSignPIN
		}
		// The unlock carries no needs-PIN label: the guard skips such specs
		// while the card reports the PIN blocked, which is the state it
		// undoes; it checks for the PIN itself.
		Context("after a lockout of the "+ref.String(), Ordered, func() {
			var spent, blocked bool
			BeforeAll(func() {
				// Registered before the first wrong try: whatever the specs
				// below leave, the right PIN or the counter undoes.
				DeferCleanup(func() {
					if !spent {
						return
					}
					c := jpkiOn(d.bare())
					if n, err := c.TriesLeft(ref); err == nil && n > 0 {
						By("restoring the tries with the right " + ref.String())
						Expect(c.VerifyPIN(ref, d.pin(ref))).To(Succeed())
					} else {
						By("having the office unlock the " + ref.String())
						Expect(d.atCounter(operator.ResetPIN, ref)).To(Succeed())
					}
					Expect(jpkiOn(d.bare()).TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
				})
			})

			It("blocks on the last wrong try, then refuses even the right PIN and the key", labels, func() {
				c := d.jpki()
				Expect(c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()), "a wrong PIN is sent only to a PIN that shows every try")
				spent = true
				wrong := other(d.pin(ref))
				for left := ref.MaxTries() - 1; left >= 1; left-- {
					Expect(c.VerifyPIN(ref, wrong)).To(HaveTriesLeft(left))
				}
				Expect(c.VerifyPIN(ref, wrong)).To(HaveStatusWord(0x63C0))
				blocked = true
				Expect(c.VerifyPIN(ref, d.pin(ref))).To(MatchError(apduclient.ErrPINBlocked))
				digest := sha256.Sum256([]byte("locked"))
				_, err := c.Sign(keyOf(ref), digest[:], crypto.SHA256)
				Expect(err).To(HaveStatusWord(0x6982))
			})

			It("is unlocked at the counter: every try back, the PIN given opens it, the key signs", func() {
				d.needPIN(ref)
				if !blocked {
					Skip("no lockout to undo: the lockout before it did not run")
				}
				Expect(d.atCounter(operator.ResetPIN, ref)).To(Succeed())
				blocked = false
				c := d.jpki()
				Expect(c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
				cert, _ := readCert(c, d, ref)
				signsWith(c, d, ref, cert)
			})
		})
	}

	// Only the lockout needs the card-info PIN at full tries: the guard
	// would skip the re-set after it, which finds the PIN blocked.
	Context("after a lockout of the card-info PIN", Ordered, func() {
		var spent, blocked bool
		var myNumber cardinfoclient.MyNumber
		textOn := func(t harness.Transport) *cardinfoclient.Client {
			GinkgoHelper()
			c := cardinfoclient.New(t)
			Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
			return c
		}
		text := func() *cardinfoclient.Client { GinkgoHelper(); return textOn(d.open()) }
		BeforeAll(func() {
			DeferCleanup(func() {
				if !spent {
					return
				}
				st, err := textOn(d.bare()).PINStatus()
				Expect(err).NotTo(HaveOccurred())
				if n := st.Of(cardinfoclient.TextPIN); n > 0 {
					By("restoring the tries with the right card-info PIN")
					_, err := textOn(d.bare()).MyNumber(d.pins.CardInfo)
					Expect(err).NotTo(HaveOccurred())
				} else {
					By("having the office re-set the card-info PIN")
					Expect(d.atCounter(operator.ResetCardInfoPIN, jpkiclient.AuthPIN)).To(Succeed())
				}
				Expect(textOn(d.bare()).PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3))
			})
		})

		It("blocks on the third wrong try, leaving 照合番号A and the JPKI PINs alone", needsCIPIN, func() {
			c := text()
			before, err := c.PINStatus()
			Expect(err).NotTo(HaveOccurred())
			Expect(before).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3), "a wrong PIN is sent only to a PIN that shows every try")
			Expect(before).To(HaveTriesLeftOn(cardinfoclient.TextCodeA, 10), "照合番号A is sent only with every try left")
			Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
			myNumber, err = c.MyNumber(d.pins.CardInfo)
			Expect(err).NotTo(HaveOccurred())
			spent = true
			Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
			for left := 2; left >= 0; left-- {
				_, err := c.MyNumber(other(d.pins.CardInfo))
				Expect(err).To(HaveTriesLeft(left))
			}
			blocked = true
			_, err = c.MyNumber(d.pins.CardInfo)
			Expect(err).To(HaveStatusWord(0x6984))
			st, err := c.PINStatus()
			Expect(err).NotTo(HaveOccurred())
			Expect(st).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 0))
			for _, k := range []cardinfoclient.Key{cardinfoclient.TextCodeA, cardinfoclient.TextCodeB, cardinfoclient.VisualCodeA, cardinfoclient.VisualCodeB, cardinfoclient.JPKIAuthPIN, cardinfoclient.JPKISignPIN} {
				Expect(st).To(HaveTriesLeftOn(k, before.Of(k)))
			}
			Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
			Expect(c.MyNumberWithCodeA(myNumber)).To(Equal(myNumber), "照合番号A still opens the My Number")
		})

		It("is re-set at the counter: every try back, the PIN given opens the My Number", func() {
			if !blocked {
				Skip("no lockout to undo: the lockout before it did not run")
			}
			Expect(d.atCounter(operator.ResetCardInfoPIN, jpkiclient.AuthPIN)).To(Succeed())
			blocked = false
			c := text()
			Expect(c.PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3))
			Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
			Expect(c.MyNumber(d.pins.CardInfo)).To(Equal(myNumber))
		})
	})

	// Giving up a certificate and having it issued anew: the signing one
	// first, then the auth one, whose new certificate changes the card's
	// fingerprint.
	for _, ref := range []jpkiclient.PINRef{jpkiclient.SignPIN, jpkiclient.AuthPIN} {
		kept := jpkiclient.AuthPIN
		if ref == jpkiclient.AuthPIN {
			kept = jpkiclient.SignPIN
		}
		// Giving a certificate up blocks its PIN on some cards (as on one
		// that never had it): the issuance after it carries no needs-PIN
		// label, which the guard would skip on a blocked PIN.
		Context("when its holder gives up the "+certOf(ref).String(), Ordered, func() {
			var revoked bool
			var oldDER []byte
			BeforeAll(func() {
				DeferCleanup(func() {
					if revoked {
						By("having the office issue the " + certOf(ref).String() + " anew")
						Expect(d.atCounter(operator.IssueCertificate, ref)).To(Succeed())
					}
				})
			})

			It("is revoked by CRL and OCSP, and the other certificate stays valid", bothPINs, func() {
				needEndpoints()
				_, oldDER = readCert(d.jpki(), d, ref)
				_, keptDER := readCert(d.jpki(), d, kept)
				d.expectValid(certOf(ref), oldDER)
				revoked = true
				Expect(d.atCounter(operator.Revoke, ref)).To(Succeed())
				d.expectRevoked(certOf(ref), oldDER, relyingparty.CessationOfOperation)
				d.expectValid(certOf(kept), keptDER)
			})

			It("is issued anew at the counter: a new certificate, valid, whose key signs with the PIN given", func() {
				d.needPIN(jpkiclient.AuthPIN)
				d.needPIN(jpkiclient.SignPIN)
				if !revoked {
					Skip("nothing to issue anew: the certificate was not given up")
				}
				Expect(d.atCounter(operator.IssueCertificate, ref)).To(Succeed())
				revoked = false
				c := d.jpki()
				cert, der := readCert(c, d, ref)
				Expect(der).NotTo(Equal(oldDER), "a new certificate")
				d.expectValid(certOf(ref), der)
				d.expectRevoked(certOf(ref), oldDER, relyingparty.CessationOfOperation)
				Expect(c.SelectAP()).To(Succeed())
				signsWith(c, d, ref, cert)
				Expect(c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
			})
		})
	}

	Context("after a loss report", Ordered, bothPINs, func() {
		var lost bool
		var oldAuth, oldSign []byte
		var authCert *x509.Certificate
		BeforeAll(func() {
			DeferCleanup(func() {
				if lost {
					By("reporting the card found: the office issues both certificates anew")
					Expect(d.atCounter(operator.CardFound, jpkiclient.AuthPIN)).To(Succeed())
				}
			})
		})

		It("revokes both certificates at once, by CRL and by OCSP", func() {
			needEndpoints()
			authCert, oldAuth = readCert(d.jpki(), d, jpkiclient.AuthPIN)
			_, oldSign = readCert(d.jpki(), d, jpkiclient.SignPIN)
			d.expectValid(jpkiclient.AuthCert, oldAuth)
			lost = true
			Expect(d.atCounter(operator.ReportLoss, jpkiclient.AuthPIN)).To(Succeed())
			d.expectRevoked(jpkiclient.AuthCert, oldAuth, relyingparty.KeyCompromise)
			d.expectRevoked(jpkiclient.SignCert, oldSign, relyingparty.KeyCompromise)
		})

		It("leaves the lost card's chip as it was: the same certificate, whose key still signs", func() {
			if !lost {
				Skip("no loss report: the step before it did not run")
			}
			c := d.jpki()
			_, der := readCert(c, d, jpkiclient.AuthPIN)
			Expect(der).To(Equal(oldAuth), "the office does not hold a lost card: revocation is what protects a relying party")
			signsWith(c, d, jpkiclient.AuthPIN, authCert)
		})

		It("is reported found: the office issues new certificates, valid by CRL and OCSP; the old ones stay revoked", func() {
			if !lost {
				Skip("no loss report: the step before it did not run")
			}
			Expect(d.atCounter(operator.CardFound, jpkiclient.AuthPIN)).To(Succeed())
			lost = false
			_, auth := readCert(d.jpki(), d, jpkiclient.AuthPIN)
			_, sign := readCert(d.jpki(), d, jpkiclient.SignPIN)
			Expect(auth).NotTo(Equal(oldAuth))
			Expect(sign).NotTo(Equal(oldSign))
			d.expectValid(jpkiclient.AuthCert, auth)
			d.expectValid(jpkiclient.SignCert, sign)
			d.expectRevoked(jpkiclient.AuthCert, oldAuth, relyingparty.KeyCompromise)
			d.expectRevoked(jpkiclient.SignCert, oldSign, relyingparty.KeyCompromise)
		})

		It("signs with the new keys and the PINs given, verifiable with the new certificates, every try left", func() {
			for _, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
				c := d.jpki()
				Expect(c.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
				cert, _ := readCert(c, d, ref)
				Expect(c.SelectAP()).To(Succeed())
				signsWith(c, d, ref, cert)
			}
		})
	})
})
