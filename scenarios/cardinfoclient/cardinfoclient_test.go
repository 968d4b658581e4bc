package cardinfoclient_test

import (
	"strings"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/simcard/profile"
)

// sexCode is the JIS X 0303 code the card should write for a profile's sex
// (docs/card.md §3.2).
func sexCode(s profile.Sex) cardinfoclient.Sex {
	switch s {
	case profile.Male:
		return cardinfoclient.SexMale
	case profile.Female:
		return cardinfoclient.SexFemale
	}
	return cardinfoclient.SexNotApplicable
}

// lengthsNot82 returns the tags of the TLVs in the file (the outer object
// and those inside it) whose length is 128 or more but not written 82 HH LL.
func lengthsNot82(file []byte) []cardinfoclient.Tag {
	outer, _, err := cardinfoclient.ParseTLV(file)
	Expect(err).NotTo(HaveOccurred())
	kids, err := cardinfoclient.ParseAll(outer.Value)
	Expect(err).NotTo(HaveOccurred())
	var out []cardinfoclient.Tag
	for _, t := range append([]cardinfoclient.TLV{outer}, kids...) {
		if t.Length >= 0x80 && t.Raw[t.HeaderLen-3] != 0x82 {
			out = append(out, t.Tag)
		}
	}
	return out
}

func dateOf(t time.Time) cardinfoclient.Date {
	return cardinfoclient.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// The holders the reading specs run on: the target's card (a physical
// card, or the simulated default holder standing in for it), and cards the
// simulator issues: one born in Shōwa 55 like myna-card's test card with
// an address long enough for 82-form lengths, and one born on the last day
// of Shōwa.
var (
	showaHolder = func() profile.Profile {
		p := profile.Default()
		p.Holder.Sex = profile.Male
		p.Holder.BirthDate = profile.NewDate(1980, time.February, 17)
		p.Holder.Address = "北海道札幌市中央区" + strings.Repeat("一丁目", 30)
		p.SecurityCode = "2285"
		return p
	}
	lastShowaHolder = func() profile.Profile {
		p := profile.Default()
		p.Holder.BirthDate = profile.NewDate(1989, time.January, 7)
		return p
	}
	holders = []TableEntry{
		Entry("the card under test", physicalSafe, needsCIPIN, onCard),
		Entry("a man born 1980-02-17 (Shōwa 55) with a long address", simOnly, func() *holder { return newHolder(showaHolder()) }),
		Entry("a holder born 1989-01-07, the last day of Shōwa (64)", simOnly, func() *holder { return newHolder(lastShowaHolder()) }),
	}
)

var (
	physicalSafe = speclabel.Of(speclabel.PhysicalSafe)
	needsCIPIN   = speclabel.Of(speclabel.NeedsCardInfoPIN)
	simOnly      = speclabel.Of(speclabel.SimOnly)
)

// fresh is every key's tries on a card as issued.
var fresh = cardinfoclient.PINStatus{
	TextPIN: 3, JPKIAuthPIN: 3, JPKISignPIN: 5,
	// 10 for the codes: digital.go.jp for 照合番号B; "probably 10" for A
	// (docs/card.md §3.2, §3.3, §10).
	TextCodeA: 10, TextCodeB: 10, VisualCodeA: 10, VisualCodeB: 10,
}

var allKeys = []cardinfoclient.Key{
	cardinfoclient.TextPIN, cardinfoclient.TextCodeA, cardinfoclient.TextCodeB, cardinfoclient.VisualCodeA,
	cardinfoclient.VisualCodeB, cardinfoclient.JPKIAuthPIN, cardinfoclient.JPKISignPIN,
}

var _ = Describe("The card-info applet (券面事項入力補助AP)", func() {
	DescribeTable("gives the My Number and the four facts to the PIN",
		func(open func() *holder) {
			h := open()
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())

			n, err := h.c.MyNumber(h.pin)
			Expect(err).NotTo(HaveOccurred())
			Expect(n).To(BeValidMyNumber())

			f, err := h.c.ReadFacts()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Name).NotTo(BeEmpty(), "the name")
			Expect(f.Address).NotTo(BeEmpty(), "the address")
			Expect(lengthsNot82(f.Raw)).To(BeEmpty(), "lengths of 128 and more are written 82 HH LL (docs/card.md §3.2)")

			By("keeping EF 0001 at its 17 physical bytes")
			Expect(h.c.SelectEF(cardinfoclient.EFTextMyNumber)).To(Succeed())
			r, err := h.c.Transmit(apduclient.Command{INS: 0xB0, P2: 17, Ne: 1})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(HaveStatusWord(0x6B00), "READ BINARY at offset 17")

			By("vouching for both in the integrity record, signed by the key of EF 0004")
			Expect(h.c).To(HaveIntegrityVerified())

			if h.p != nil {
				By("holding the values of the profile the card was issued from, EF 0004 certified by the text applet's CA")
				Expect(string(n)).To(Equal(h.p.MyNumber))
				Expect(f.Name).To(Equal(h.p.Holder.Name))
				Expect(f.Address).To(Equal(h.p.Holder.Address))
				Expect(f.BirthDate).To(Equal(dateOf(h.p.Holder.BirthDate.Time)))
				Expect(f.Sex).To(Equal(sexCode(h.p.Holder.Sex)))
				cert, err := h.c.Certificate()
				Expect(err).NotTo(HaveOccurred())
				Expect(cert).To(BeCertifiedBy(h.textCA))
				Expect(cert).NotTo(BeCertifiedBy(h.visualCA))
			}
		},
		holders,
	)

	DescribeTable("gives the My Number to 照合番号A and the facts to 照合番号B, and nothing more",
		func(open func() *holder) {
			h := open()
			codeA, codeB := h.codeA(), h.codeBOf()
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			n, err := h.c.MyNumberWithCodeA(codeA)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(n) == string(codeA)).To(BeTrue(), "EF 0001 holds the My Number that opened it")
			_, err = h.c.ReadFacts()
			Expect(err).To(HaveStatusWord(0x6982), "照合番号A opened EF 0002")
			Expect(h.c.IntegrityRecord()).Error().NotTo(HaveOccurred(), "either code opens EF 0003")

			// Selecting another applet clears 照合番号A; re-selecting this
			// one would not (docs/card.md §5.1).
			Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			f, err := h.c.FactsWithCodeB(codeB)
			noteCodeB(codeB, err)
			Expect(err).NotTo(HaveOccurred(), "照合番号B built from the birth date in era years, the expiry year and the security code")
			Expect(f.Name).NotTo(BeEmpty(), "the name")
			_, err = h.c.ReadMyNumber()
			Expect(err).To(HaveStatusWord(0x6982), "照合番号B opened EF 0001")
			if h.p != nil {
				Expect(f.Name).To(Equal(h.p.Holder.Name))
			}
		},
		holders,
	)

	It("refuses EF 0001, 0002 and 0003 without a key, keeps a key when the applet is selected again and forgets it when another applet is", physicalSafe, needsCIPIN, func() {
		h := onCard()
		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		_, err := h.c.ReadMyNumber()
		Expect(err).To(MatchError(apduclient.ErrSecurityStatusNotSatisfied))
		_, err = h.c.ReadFacts()
		Expect(err).To(HaveStatusWord(0x6982))
		_, err = h.c.IntegrityRecord()
		Expect(err).To(HaveStatusWord(0x6982))

		Expect(h.c.MyNumber(h.pin)).Error().NotTo(HaveOccurred())
		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		Expect(h.c.ReadMyNumber()).Error().NotTo(HaveOccurred(), "re-selecting the current applet keeps the PIN (docs/card.md §5.1)")
		Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		_, err = h.c.ReadMyNumber()
		Expect(err).To(HaveStatusWord(0x6982), "selecting another applet clears the PIN (docs/card.md §5.1)")
	})

	It("reads its certificate and basic info without a key", physicalSafe, func() {
		h := onCard()
		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		cert, err := h.c.Certificate()
		Expect(err).NotTo(HaveOccurred())
		Expect(cert).NotTo(BeCertifiedBy(cert.PublicKey), "a certificate is not signed by the key it certifies")

		info, err := h.c.BasicInfo()
		Expect(err).NotTo(HaveOccurred())
		Expect(info.Raw).To(HaveLen(256))
		Expect(info.KeyID).NotTo(Equal(cert.SubjectKeyID), "basic info names a key other than the signing key (myna-card)")
	})
})

var _ = Describe("The card-face applet (券面AP)", func() {
	DescribeTable("shows the card face to either 照合番号",
		func(open func() *holder, useB bool) {
			h := open()
			text := h.facts()
			expiry := h.expiryDate()
			var code cardinfoclient.Code = h.codeA()
			if useB {
				code = h.codeBOf()
			}
			Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
			_, err := h.c.ReadFace()
			Expect(err).To(HaveStatusWord(0x6982), "the face needs a code")

			f, err := h.c.FaceData(code)
			noteCodeB(code, err)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.BirthDate == text.BirthDate).To(BeTrue(), "the face's birth date is the text applet's")
			Expect(f.Sex == text.Sex).To(BeTrue(), "the face's sex is the text applet's")
			Expect(f.Expiry == expiry).To(BeTrue(), "the face's expiry is the card's (GET DATA 00F2)")
			Expect(f.NameImage).To(BePNG())
			Expect(f.AddressImage).To(BePNG())
			Expect(f.SecurityCodeImage).To(BePNG())
			Expect(f.CheckOffsets()).To(Succeed())

			By("signed by the key certified in the applet's EF 0004")
			cert, err := h.c.Certificate()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.CheckSignature(cert.PublicKey)).To(Succeed())
			Expect(f.CheckSignature(f.PublicKey)).NotTo(Succeed(), "the card's own key does not sign its face")

			if h.p != nil {
				By("holding the profile's values, EF 0004 certified by the card-face CA")
				Expect(f.BirthDate).To(Equal(dateOf(h.p.Holder.BirthDate.Time)))
				Expect(f.Sex).To(Equal(sexCode(h.p.Holder.Sex)))
				Expect(f.Expiry).To(Equal(dateOf(h.expiry)), "the card is valid to the tenth birthday after issuance")
				Expect(cert).To(BeCertifiedBy(h.visualCA))
			}
		},
		Entry("the card under test, 照合番号A", physicalSafe, needsCIPIN, onCard, false),
		Entry("the card under test, 照合番号B", physicalSafe, needsCIPIN, onCard, true),
		Entry("born in Shōwa 55, 照合番号B", simOnly, func() *holder { return newHolder(showaHolder()) }, true),
		Entry("born on the last day of Shōwa, 照合番号B", simOnly, func() *holder { return newHolder(lastShowaHolder()) }, true),
	)
})

var _ = Describe("PIN status of all seven keys", func() {
	It("answers 63Cx to every empty VERIFY, after SELECT EF or by SFI, spending nothing", physicalSafe, func() {
		h := onCard()
		st, err := h.c.PINStatus()
		Expect(err).NotTo(HaveOccurred())
		for _, k := range allKeys {
			Expect(st.Of(k)).To(BeNumerically("<=", fresh.Of(k)), "%v: at most %d tries", k, fresh.Of(k))
		}
		Expect(h.c.PINStatusSFI()).To(Equal(st))
		Expect(h.c.PINStatus()).To(Equal(st), "asking again spends nothing")
	})

	It("counts a wrong PIN or code on its own key only, and a right one restores it", speclabel.Of(speclabel.Destructive, speclabel.NeedsCardInfoPIN), func() {
		h := onCard()
		codeA := h.codeA()
		before, err := h.c.PINStatus()
		Expect(err).NotTo(HaveOccurred())
		for _, k := range []cardinfoclient.Key{cardinfoclient.TextPIN, cardinfoclient.VisualCodeA} {
			Expect(before).To(HaveTriesLeftOn(k, fresh.Of(k)), "every try left before a wrong one is sent")
		}
		DeferCleanup(func() {
			By("restoring the tries with the right PIN and code")
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			Expect(h.c.MyNumber(h.pin)).Error().NotTo(HaveOccurred())
			Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
			Expect(h.c.FaceData(codeA)).Error().NotTo(HaveOccurred())
			Expect(h.c.PINStatus()).To(Equal(before))
		})

		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		_, err = h.c.MyNumber(cardinfoclient.PIN(otherDigits(string(h.pin))))
		Expect(err).To(HaveTriesLeft(fresh.TextPIN - 1))
		Expect(h.c.Select(cardinfoclient.VisualAP)).To(Succeed())
		_, err = h.c.FaceData(cardinfoclient.MyNumber(otherDigits(string(codeA))))
		Expect(err).To(BeWrongPIN())

		st, err := h.c.PINStatus()
		Expect(err).NotTo(HaveOccurred())
		Expect(st).To(HaveTriesLeftOn(cardinfoclient.TextPIN, fresh.TextPIN-1))
		Expect(st).To(HaveTriesLeftOn(cardinfoclient.VisualCodeA, fresh.VisualCodeA-1))
		for _, k := range []cardinfoclient.Key{cardinfoclient.TextCodeA, cardinfoclient.TextCodeB, cardinfoclient.VisualCodeB, cardinfoclient.JPKIAuthPIN, cardinfoclient.JPKISignPIN} {
			Expect(st).To(HaveTriesLeftOn(k, before.Of(k)))
		}

		Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
		Expect(h.c.MyNumber(h.pin)).Error().NotTo(HaveOccurred())
		Expect(h.c.PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, fresh.TextPIN))
	})

	// On a physical card with an operator: the office re-sets the PIN at
	// the counter, from a cleanup registered before the first wrong try.
	It("blocks the card-info PIN after three wrong tries: 63C0, then 6984, until the office re-sets it",
		speclabel.Of(speclabel.Destructive, speclabel.Interactive, speclabel.NeedsCardInfoPIN), func() {
			h := onCard()
			before, err := h.c.PINStatus()
			Expect(err).NotTo(HaveOccurred())
			Expect(before).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3), "a wrong PIN is sent only to a PIN that shows every try")
			Expect(before).To(HaveTriesLeftOn(cardinfoclient.TextCodeA, 10), "照合番号A is sent only with every try left")
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			myNumber, err := h.c.MyNumber(h.pin)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(h.undoCardInfoLockout)
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			for left := 2; left >= 0; left-- {
				_, err := h.c.MyNumber(cardinfoclient.PIN(otherDigits(string(h.pin))))
				Expect(err).To(HaveTriesLeft(left))
			}
			_, err = h.c.MyNumber(h.pin)
			Expect(err).To(HaveStatusWord(0x6984))
			Expect(h.c.PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 0))
			Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
			n, err := h.c.MyNumberWithCodeA(myNumber)
			Expect(err).NotTo(HaveOccurred(), "照合番号A still opens the My Number")
			Expect(n).To(Equal(myNumber))
		})
})

// otherDigits is a value of the same digits as v but the last, moved on
// by one: a wrong PIN or code that is never the right one.
func otherDigits(v string) string {
	b := []byte(v)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}
