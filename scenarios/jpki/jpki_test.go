package jpki_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"time"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/simcard/profile"
)

func digestOf(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(msg)
		return d[:]
	}
	d := sha256.Sum256(msg)
	return d[:]
}

var _ = Describe("Reading the card", speclabel.Of(speclabel.PhysicalSafe), func() {
	var h *holder
	BeforeEach(func() { h = targetHolder() })

	It("identifies itself as a plastic My Number Card token", func() {
		Expect(h.client.CheckToken()).To(Succeed())
		Expect(h.client.CertificatesPresent()).To(And(HaveField("Sign", true), HaveField("Auth", true), HaveField("Raw", Equal([3]byte{0x8F, 0x8F, 0x00}))))
	})

	It("gives all four certificates, each end-entity one signed by its CA", speclabel.Of(speclabel.NeedsSignPIN), func() {
		authCA, _, err := h.client.ReadCertificate(jpkiclient.AuthCACert)
		Expect(err).NotTo(HaveOccurred())
		signCA, _, err := h.client.ReadCertificate(jpkiclient.SignCACert)
		Expect(err).NotTo(HaveOccurred())
		auth, _, err := h.client.ReadCertificate(jpkiclient.AuthCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(auth).To(BeSignedBy(authCA))
		Expect(auth).NotTo(BeSignedBy(signCA))

		By("refusing the signing certificate without the sign PIN")
		_, _, err = h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).To(MatchError(apduclient.ErrSecurityStatusNotSatisfied))
		Expect(err).To(HaveStatusWord(0x6982))

		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, h.signPIN)).To(Succeed())
		sign, _, err := h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(sign).To(BeSignedBy(signCA))
		Expect(sign).To(BeValidAt(sign.NotBefore.Add(time.Hour)))
		Expect(auth.Subject.Names).To(HaveLen(2), "the auth certificate's subject is C and an opaque CN, no personal data")
	})

	It("reports the tries left of both PINs without spending any", func() {
		for _, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
			n, err := h.client.TriesLeft(ref)
			Expect(err).NotTo(HaveOccurred())
			if !tgt.Physical() {
				// A physical card's counters are its own (a PIN mistyped
				// in this run or before shows here); the simulated card is
				// fresh.
				Expect(n).To(Equal(ref.MaxTries()), "%v", ref)
			}
			Expect(n).To(BeNumerically("<=", ref.MaxTries()), "%v", ref)
			Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(n), "asking again spends nothing (%v)", ref)
		}
	})
})

var _ = Describe("Authenticating with the card", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN), func() {
	It("signs a challenge with the authentication key, verifiable with the auth certificate", func() {
		h := targetHolder()
		auth, _, err := h.client.ReadCertificate(jpkiclient.AuthCert)
		Expect(err).NotTo(HaveOccurred())
		challenge := make([]byte, 32)
		_, _ = rand.Read(challenge)
		digest := digestOf(crypto.SHA256, challenge)

		By("refusing the key before the auth PIN is verified")
		_, err = h.client.Sign(jpkiclient.AuthKey, digest, crypto.SHA256)
		Expect(err).To(HaveStatusWord(0x6982))

		Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, h.authPIN)).To(Succeed())
		sig, err := h.client.Sign(jpkiclient.AuthKey, digest, crypto.SHA256)
		Expect(err).NotTo(HaveOccurred())
		Expect(sig).To(HaveLen(256))
		Expect(sig).To(VerifySignature(auth, digest, crypto.SHA256))
	})
})

var _ = Describe("Signing a document", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN, speclabel.NeedsSignPIN), func() {
	DescribeTable("with the signing key, verifiable with the sign certificate",
		func(hash crypto.Hash) {
			h := targetHolder()
			Expect(h.client.VerifyPIN(jpkiclient.SignPIN, h.signPIN)).To(Succeed())
			sign, _, err := h.client.ReadCertificate(jpkiclient.SignCert)
			Expect(err).NotTo(HaveOccurred())
			digest := digestOf(hash, []byte("申請書 / application form"))
			sig, err := h.client.Sign(jpkiclient.SignKey, digest, hash)
			Expect(err).NotTo(HaveOccurred())
			Expect(sig).To(VerifySignature(sign, digest, hash))

			By("not signing with the auth PIN alone")
			// A reset clears the sign PIN; re-selecting the applet would not
			// (docs/card.md §5.1).
			Expect(harness.Reset(h.t)).To(Succeed())
			Expect(h.client.SelectAP()).To(Succeed())
			Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, h.authPIN)).To(Succeed())
			_, err = h.client.Sign(jpkiclient.SignKey, digest, hash)
			Expect(err).To(HaveStatusWord(0x6982))
		},
		Entry("SHA-256", crypto.SHA256),
		Entry("SHA-384", crypto.SHA384),
		Entry("SHA-512", crypto.SHA512),
	)
})

var _ = Describe("PIN lockout", speclabel.Of(speclabel.Destructive), func() {
	DescribeTable("counts down, blocks on the last try and stays blocked",
		func(ref jpkiclient.PINRef, wrong jpkiclient.PIN, key jpkiclient.Key) {
			h := targetHolder()
			right := h.authPIN
			if ref == jpkiclient.SignPIN {
				right = h.signPIN
			}
			max := ref.MaxTries()
			Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(max))
			if tgt.Physical() && tgt.Operator() != nil {
				// A physical card keeps the lockout: the office re-sets
				// the PIN (an operator step) and the card is checked
				// again. Without an operator the run's last line says
				// the card is left blocked.
				DeferCleanup(func() {
					By("having the office re-set the " + ref.String())
					Expect(tgt.Office(ref)).To(Succeed())
					Expect(harness.Reset(h.t)).To(Succeed())
					Expect(h.client.SelectAP()).To(Succeed())
					Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(max))
					Expect(h.client.VerifyPIN(ref, right)).To(Succeed())
				})
			}

			By("a wrong PIN costs one try, a right PIN in between restores them all")
			Expect(h.client.VerifyPIN(ref, wrong)).To(HaveTriesLeft(max - 1))
			Expect(h.client.VerifyPIN(ref, right)).To(Succeed())
			Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(max))

			By("counting down to 63C0 on the last try")
			for left := max - 1; left >= 1; left-- {
				Expect(h.client.VerifyPIN(ref, wrong)).To(HaveTriesLeft(left))
			}
			err := h.client.VerifyPIN(ref, wrong)
			Expect(err).To(HaveStatusWord(0x63C0))
			Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(0))

			By("answering 6984 afterwards, even to the right PIN")
			err = h.client.VerifyPIN(ref, right)
			Expect(err).To(HaveStatusWord(0x6984))
			Expect(err).To(MatchError(apduclient.ErrPINBlocked))

			By("refusing to sign")
			_, err = h.client.Sign(key, digestOf(crypto.SHA256, []byte("x")), crypto.SHA256)
			Expect(err).To(HaveStatusWord(0x6982))
		},
		Entry("auth PIN: 3 tries", speclabel.Of(speclabel.NeedsAuthPIN), jpkiclient.AuthPIN, jpkiclient.PIN("9999"), jpkiclient.AuthKey),
		Entry("sign PIN: 5 tries", speclabel.Of(speclabel.NeedsSignPIN), jpkiclient.SignPIN, jpkiclient.PIN("WRONG99"), jpkiclient.SignKey),
	)
})

var _ = Describe("Changing a PIN", speclabel.Of(speclabel.Destructive), func() {
	DescribeTable("enforces the format and takes effect",
		func(ref jpkiclient.PINRef, next jpkiclient.PIN, bad []string) {
			h := targetHolder()
			old := h.authPIN
			if ref == jpkiclient.SignPIN {
				old = h.signPIN
			}
			// The set-back is registered before the first change, and
			// follows what the card answered, not what the simulator
			// would: a real card may accept a format the simulator
			// refuses, and then the PIN is that value.
			current := old
			setBack(h, ref, old, &current)
			for _, b := range bad {
				err := h.client.ChangePIN(ref, current, jpkiclient.PIN(b))
				if err == nil {
					current = jpkiclient.PIN(b)
				}
				Expect(err).To(HaveOccurred(), "new PIN of %d characters", len(b))
			}
			err := h.client.ChangePIN(ref, current, next)
			if err == nil {
				current = next
			}
			Expect(err).NotTo(HaveOccurred())
			Expect(h.client.VerifyPIN(ref, old)).To(BeWrongPIN())
			Expect(h.client.VerifyPIN(ref, next)).To(Succeed())
		},
		Entry("auth PIN: exactly 4 digits", speclabel.Of(speclabel.NeedsAuthPIN), jpkiclient.AuthPIN, jpkiclient.PIN("4321"), []string{"123", "12345", "12a4"}),
		Entry("sign PIN: 6–16 of A–Z 0–9", speclabel.Of(speclabel.NeedsSignPIN), jpkiclient.SignPIN, jpkiclient.PIN("NEW2PIN"), []string{"ABC12", "abcdef", "ABCDEFGHIJ1234567", "ABC 123"}),
	)

	It("is refused by the card without a VERIFY of that PIN in the selected applet", speclabel.Of(speclabel.NeedsAuthPIN), func() {
		h := targetHolder()
		// Set back should the card take a change it must refuse.
		current := h.authPIN
		setBack(h, jpkiclient.AuthPIN, h.authPIN, &current)
		change := func(p string) error {
			_, err := h.client.Do(apduclient.Command{CLA: 0x00, INS: 0x24, P1: 0x01, P2: 0x80, Data: []byte(p)})
			if err == nil {
				current = jpkiclient.PIN(p)
			}
			return err
		}
		Expect(h.client.SelectAP()).To(Succeed())
		Expect(h.client.SelectEF(jpkiclient.EFAuthPIN)).To(Succeed())
		Expect(change("4321")).To(HaveStatusWord(0x6982))
		By("and a format the card refuses answers 6A80")
		Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, h.authPIN)).To(Succeed())
		Expect(change("12")).To(HaveStatusWord(0x6A80))
	})
})

// setBack registers, before the spec's first change of ref, the cleanup
// that gives the card back the PIN old: if the card took a change (current
// is then what it took), the PIN is changed back; in every case the spec
// then proves the original PIN works (VERIFY 9000) and every try is left
// (docs/physical-cards.md, "Destructive specs set the card back").
func setBack(h *holder, ref jpkiclient.PINRef, old jpkiclient.PIN, current *jpkiclient.PIN) {
	GinkgoHelper()
	DeferCleanup(func() {
		By("setting the " + ref.String() + " back and proving the original works")
		Expect(harness.Reset(h.t)).To(Succeed())
		Expect(h.client.SelectAP()).To(Succeed())
		if *current != old {
			Expect(h.client.ChangePIN(ref, *current, old)).To(Succeed())
		}
		Expect(h.client.VerifyPIN(ref, old)).To(Succeed())
		Expect(h.client.TriesLeft(ref)).To(HaveTriesLeft(ref.MaxTries()))
	})
}

var _ = Describe("Security status", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN), func() {
	var h *holder
	signOnce := func() error {
		if err := h.client.SelectEF(jpkiclient.EFAuthKey); err != nil {
			return err
		}
		di, err := jpkiclient.DigestInfo(crypto.SHA256, digestOf(crypto.SHA256, []byte("login")))
		Expect(err).NotTo(HaveOccurred())
		_, err = h.client.Do(apduclient.Command{CLA: 0x80, INS: 0x2A, P1: 0x00, P2: 0x80, Data: di, Ne: 256})
		return err
	}
	BeforeEach(func() {
		h = targetHolder()
		Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, h.authPIN)).To(Succeed())
		Expect(signOnce()).To(Succeed())
	})

	It("survives selecting the current applet again (docs/card.md §5.1)", func() {
		Expect(h.client.SelectAP()).To(Succeed())
		Expect(signOnce()).To(Succeed())
	})

	It("is cleared by selecting another applet", func() {
		_, err := h.client.Do(apduclient.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: textAP})
		Expect(err).NotTo(HaveOccurred())
		Expect(h.client.SelectAP()).To(Succeed())
		Expect(signOnce()).To(HaveStatusWord(0x6982))
	})

	It("is cleared by a reset", func() {
		Expect(harness.Reset(h.t)).To(Succeed())
		Expect(h.client.SelectAP()).To(Succeed())
		Expect(signOnce()).To(HaveStatusWord(0x6982))
	})
})

// textAP is the AID of the text applet (券面事項入力補助AP, docs/card.md §2).
var textAP = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}

// A client that verifies the sign PIN once and re-selects the applet before
// each signature, signing a SHA-256 hash with 80 2A 02 9A (the card builds
// the DigestInfo; key by short EF identifier): real cards answer 9000 and
// 256 bytes each time (docs/card.md §5.1, §4.6).
var _ = Describe("Signing after re-selecting the applet", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsSignPIN), func() {
	It("keeps the verified sign PIN for signatures and for EF 0001", func() {
		h := targetHolder()
		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, h.signPIN)).To(Succeed())
		cert, _, err := h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).NotTo(HaveOccurred())
		for i := range 3 {
			Expect(h.client.SelectAP()).To(Succeed())
			hash := digestOf(crypto.SHA256, []byte{byte(i), 'r', 'e'})
			sig, err := h.client.Do(apduclient.Command{CLA: 0x80, INS: 0x2A, P1: 0x02, P2: 0x80 | 0x1A, Data: hash, Ne: 256})
			Expect(err).NotTo(HaveOccurred(), "signature %d after re-selecting the applet", i+1)
			Expect(sig).To(HaveLen(256))
			Expect(sig).To(VerifySignature(cert, hash, crypto.SHA256))
		}
		By("reading EF 0001 after a re-select")
		Expect(h.client.SelectAP()).To(Succeed())
		again, _, err := h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(again.Raw).To(Equal(cert.Raw))
		By("and not after selecting another applet")
		_, err = h.client.Do(apduclient.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: textAP})
		Expect(err).NotTo(HaveOccurred())
		Expect(h.client.SelectAP()).To(Succeed())
		_, _, err = h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).To(HaveStatusWord(0x6982))
	})
})

var _ = Describe("A holder aged 14", speclabel.Of(speclabel.SimOnly), func() {
	It("has no signing certificate, and the signing key is refused", func() {
		p := profile.Default()
		p.Holder.BirthDate = profile.NewDate(2011, time.June, 15)
		p.IssueDate = profile.NewDate(2026, time.April, 1)
		h := simHolder(p)
		Expect(h.client.CertificatesPresent()).To(And(HaveField("Sign", false), HaveField("Auth", true)))
		_, _, err := h.client.ReadCertificate(jpkiclient.SignCert)
		Expect(err).To(HaveStatusWord(0x6A82))
		_, err = h.client.Sign(jpkiclient.SignKey, digestOf(crypto.SHA256, []byte("x")), crypto.SHA256)
		Expect(err).To(HaveOccurred())
		Expect(h.client.TriesLeft(jpkiclient.SignPIN)).To(HaveTriesLeft(0))
		By("while authentication works as for anyone")
		Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, h.authPIN)).To(Succeed())
	})
})
