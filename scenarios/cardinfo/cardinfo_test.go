package cardinfo_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"image/png"
	"time"
	"unicode/utf8"

	"github.com/mynahil/mynahil/harness"
	hapdu "github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/simcard/profile"
)

// The default holder: born 1990-01-02 (Heisei 2), card to 2036, security
// code 5678, My Number 123456789018, card-info PIN 1234.
const (
	defaultPIN      = "1234"
	defaultMyNumber = "123456789018"
	defaultEraBirth = "020102"
)

var (
	physicalSafe = speclabel.Of(speclabel.PhysicalSafe)
	needsCIPIN   = speclabel.Of(speclabel.NeedsCardInfoPIN)
	simOnly      = speclabel.Of(speclabel.SimOnly)
)

// A secret is a key's value for a session, and the session it is for: the
// target's card with the secrets the run was given or read from the card,
// or a world card of the default profile (sim-only entries).
type secret func() (*session, string)

var (
	withPIN      secret = func() (*session, string) { s := onCard(); return s, s.cardInfoPIN() }
	withCodeA    secret = func() (*session, string) { s := onCard(); return s, s.myNumber() }
	withCodeB    secret = func() (*session, string) { s := onCard(); return s, s.codeB() }
	withBirthKey secret = func() (*session, string) { s := onCard(); return s, s.birthKey() }
)

var _ = Describe("券面事項入力補助AP (card-info input support)", func() {
	DescribeTable("what each key opens (docs/card.md §5.3)", physicalSafe,
		func(fid string, key secret, myNumber, facts, integrity bool) {
			s, value := key()
			s.selectAP(aidText)
			Expect(s.verify(fid, value)).To(HaveStatusWord(0x9000))
			for _, f := range []struct {
				ef   string
				open bool
			}{{"0001", myNumber}, {"0002", facts}, {"0003", integrity}} {
				_, sw := s.read(f.ef)
				if f.open {
					Expect(sw).To(Equal(uint16(0x9000)), "EF %s", f.ef)
				} else {
					Expect(sw).To(Equal(uint16(0x6982)), "EF %s", f.ef)
				}
			}
		},
		Entry("the 4-digit PIN opens both", needsCIPIN, "0011", withPIN, true, true, true),
		Entry("照合番号A opens the My Number only", needsCIPIN, "0014", withCodeA, true, false, true),
		Entry("照合番号B opens the four facts only", needsCIPIN, "0015", withCodeB, false, true, true),
	)

	It("gives the My Number and the four facts to the PIN, in their TLV form", physicalSafe, needsCIPIN, func() {
		s := onCard()
		s.selectAP(aidText)
		Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000))
		Expect(checkMyNumberFile(s.mustRead("0001"))).To(Succeed())

		facts := s.mustRead("0002")
		f := children(facts, 0xFF20)
		for _, tag := range []uint32{0xDF22, 0xDF23} {
			Expect(f[tag].value).NotTo(BeEmpty(), "%X", tag)
			Expect(utf8.Valid(f[tag].value)).To(BeTrue(), "%X is UTF-8", tag)
		}
		_, ok := date(f[0xDF24].value)
		Expect(ok).To(BeTrue(), "the birth date (DF24) is a date YYYYMMDD")
		sex := f[0xDF25].value
		Expect(len(sex) == 1 && bytes.ContainsAny(sex, "0129")).To(BeTrue(), "the sex (DF25) is one JIS X 0303 code")
		table := f[0xDF21].value
		Expect(table).To(HaveLen(8))
		for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
			at, _ := parse(facts[int(table[2*i])<<8|int(table[2*i+1]):])
			Expect(at.tag).To(Equal(tag), "offset %d", i)
		}
	})

	It("refuses protected files with no key verified (6982) and serves the free ones", physicalSafe, func() {
		s := onCard()
		s.selectAP(aidText)
		for _, ef := range []string{"0001", "0002", "0003", "0006", "0007"} {
			_, sw := s.read(ef)
			Expect(sw).To(Equal(uint16(0x6982)), "EF %s", ef)
		}
		Expect(s.mustRead("0004")).To(HaveLen(568))
		info := s.mustRead("0005")
		Expect(info).To(HaveLen(256))
		Expect(info[:8]).To(Equal([]byte{0xFF, 0x40, 0x82, 0x00, 0x9F, 0xDF, 0x41, 0x04}))
	})

	It("keeps a verified key when the applet is selected again, forgets it when another applet is (docs/card.md §5.1)", physicalSafe, needsCIPIN, func() {
		s := onCard()
		s.selectAP(aidText)
		Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000))
		s.mustRead("0001")
		s.selectAP(aidText)
		s.mustRead("0001")
		s.selectAP(aidVisual)
		s.selectAP(aidText)
		_, sw := s.read("0001")
		Expect(sw).To(Equal(uint16(0x6982)))
	})

	It("has an integrity record that verifies against the key EF 0004 certifies", physicalSafe, needsCIPIN, func() {
		s := onCard()
		s.selectAP(aidText)
		issuerKey := certKey(s.mustRead("0004"))
		Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000))
		mn, facts, rec := s.mustRead("0001"), s.mustRead("0002"), s.mustRead("0003")
		Expect(rec).To(HaveLen(336))
		Expect(rec[:5]).To(Equal([]byte{0xFF, 0x30, 0x82, 0x01, 0x4B}))
		r := children(rec, 0xFF30)
		Expect(verifySHA256(issuerKey, append(r[0xDF31].raw, r[0xDF32].raw...), r[0xDF33].value)).To(Succeed())
		h1 := sha256.Sum256(mn)
		Expect(r[0xDF31].value).To(Equal(h1[:]))
		outer, _ := parse(facts)
		_, fromDF22 := parse(outer.value) // skip DF21
		h2 := sha256.Sum256(fromDF22)
		Expect(r[0xDF32].value).To(Equal(h2[:]))
	})

	It("signs with the applet's own key with no PIN (80 2A 00 00)", physicalSafe, func() {
		s := onCard()
		s.selectAP(aidText)
		r := s.send("80 2A 00 00 20 %X 00", bytes.Repeat([]byte{0xAB}, 32))
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(256))
	})

	It("accepts the short-EF-ID forms jsapdu sends (VERIFY P2 = 80|SFI, READ BINARY P1 = 80|SFI)", physicalSafe, needsCIPIN, func() {
		s := onCard()
		codeA := s.myNumber()
		s.selectAP(aidText)
		byEF := s.status("0011")
		Expect(byEF).To(BeWrongPIN())
		Expect(s.send("00 20 00 91")).To(HaveStatusWord(byEF.SW), "the PIN's tries by SFI, as after SELECT EF")
		Expect(s.send("00 B0 81 00 00")).To(HaveStatusWord(0x6982))
		Expect(s.send("00 20 00 94 0C %X", codeA)).To(HaveStatusWord(0x9000))
		r := s.send("00 B0 81 00 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(checkMyNumberFile(r.Data)).To(Succeed())
		Expect(string(r.Data[3:15]) == codeA).To(BeTrue(), "EF 0001 read by SFI holds the My Number that opened it")
	})

	It("keeps 0012 blocked from issuance", physicalSafe, func() {
		s := onCard()
		s.selectAP(aidText)
		// Only a key that shows itself blocked is sent a value.
		Expect(s.status("0012")).To(HaveStatusWord(0x63C0))
		Expect(s.send("00 20 00 80 04 31323334")).To(HaveStatusWord(0x6984))
	})

	It("changes the PIN after a VERIFY, within the 4-digit format, and is set back", speclabel.Of(speclabel.Destructive, speclabel.NeedsCardInfoPIN), func() {
		s := onCard()
		old := s.cardInfoPIN()
		next := otherPIN(old)
		// Registered before the first change; it follows the card's
		// answers, not the simulator's rules: a real card that takes the
		// 5-digit PIN the simulator refuses is set back from that one.
		current := old
		DeferCleanup(func() {
			By("setting the card-info PIN back and proving the original works")
			Expect(harness.Reset(s.t)).To(Succeed())
			s.selectAP(aidText)
			if current != old {
				Expect(s.verify("0011", current)).To(HaveStatusWord(0x9000))
				Expect(s.send("00 24 01 80 %02X %X", len(old), old)).To(HaveStatusWord(0x9000))
				s.selectAP(aidText)
			}
			Expect(s.verify("0011", old)).To(HaveStatusWord(0x9000))
			Expect(s.status("0011")).To(HaveStatusWord(0x63C3))
		})
		change := func(pin string) hapdu.Response {
			r := s.send("00 24 01 80 %02X %X", len(pin), pin)
			if r.SW == 0x9000 {
				current = pin
			}
			return r
		}
		s.selectAP(aidText)
		Expect(s.verify("0011", old)).To(HaveStatusWord(0x9000))
		Expect(change("12345")).To(HaveStatusWord(0x6A80))
		Expect(change(next)).To(HaveStatusWord(0x9000))
		s.selectAP(aidText)
		Expect(s.verify("0011", old)).To(HaveStatusWord(0x63C2))
		Expect(s.verify("0011", next)).To(HaveStatusWord(0x9000))
	})
})

// otherPIN is a 4-digit PIN that differs from pin in its last digit.
func otherPIN(pin string) string {
	b := []byte(pin)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

// The seven keys in `myna pin status` order, with their most tries
// (docs/card.md §3.2, §3.3, §4.1, §10).
var sevenKeys = []struct {
	aid, fid string
	max      uint16
}{
	{aidText, "0011", 3}, {aidText, "0014", 10}, {aidText, "0015", 10},
	{aidVisual, "0013", 10}, {aidVisual, "0012", 10},
	{aidJPKI, "0018", 3}, {aidJPKI, "001B", 5},
}

var _ = Describe("PIN status and lockouts across applets", func() {
	It("answers the status of all seven PINs in `myna pin status` order with 63Cx, spending nothing", physicalSafe, func() {
		s := onCard()
		ask := func() []uint16 {
			var got []uint16
			for _, q := range sevenKeys {
				s.selectAP(q.aid)
				r := s.status(q.fid)
				Expect(r).To(BeWrongPIN(), "%s/%s", q.aid, q.fid)
				Expect(r.SW&0x0F).To(BeNumerically("<=", q.max), "%s/%s: at most %d tries", q.aid, q.fid, q.max)
				got = append(got, r.SW)
			}
			return got
		}
		first := ask()
		Expect(ask()).To(Equal(first), "asking again spends nothing")
	})

	// On a physical card with an operator: the office re-sets the PIN at
	// the counter, from a cleanup registered before the first wrong try.
	It("locks the card-info PIN without touching the JPKI authentication PIN, until the office re-sets it",
		speclabel.Of(speclabel.Destructive, speclabel.Interactive, speclabel.NeedsCardInfoPIN, speclabel.NeedsAuthPIN), func() {
			s := onCard()
			s.selectAP(aidText)
			Expect(s.status("0011")).To(HaveStatusWord(0x63C3), "a wrong PIN is sent only to a PIN that shows every try")
			codeA := s.status("0014").SW
			s.selectAP(aidJPKI)
			Expect(s.status("0018")).To(HaveStatusWord(0x63C3), "the auth PIN is sent only when it shows every try")
			DeferCleanup(s.undoCardInfoLockout)
			s.selectAP(aidText)
			wrong := otherPIN(s.cardInfoPIN())
			for _, want := range []uint16{0x63C2, 0x63C1, 0x63C0} {
				Expect(s.verify("0011", wrong)).To(HaveStatusWord(want))
			}
			Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x6984))
			Expect(s.status("0011")).To(HaveStatusWord(0x63C0))
			Expect(s.status("0014")).To(HaveStatusWord(codeA), "照合番号A's tries are untouched")

			s.selectAP(aidJPKI)
			Expect(s.status("0018")).To(HaveStatusWord(0x63C3))
			Expect(s.verify("0018", string(s.pins.Auth))).To(HaveStatusWord(0x9000))
		})

	// On the target's card the wrong try is undone by the right value,
	// from a cleanup registered before it; the resident-registry and
	// common applets' PINs are not given on a physical card.
	DescribeTable("each applet counts its own tries", speclabel.Of(speclabel.Destructive),
		func(aid, fid, wrong string, max int, key secret) {
			s, right := key()
			s.selectAP(aidText)
			textBefore := s.status("0011").SW
			s.selectAP(aid)
			Expect(s.status(fid)).To(HaveStatusWord(0x63C0|uint16(max)), "every try left before a wrong one is sent")
			DeferCleanup(func() {
				By("restoring the tries with the right value")
				s.selectAP(aid)
				Expect(s.verify(fid, right)).To(HaveStatusWord(0x9000))
				Expect(s.status(fid)).To(HaveStatusWord(0x63C0 | uint16(max)))
			})
			Expect(s.verify(fid, wrong)).To(HaveStatusWord(0x63C0 | uint16(max-1)))
			s.selectAP(aidText)
			Expect(s.status("0011")).To(HaveStatusWord(textBefore), "the card-info PIN's tries are untouched")
			s.selectAP(aid)
			Expect(s.status(fid)).To(HaveStatusWord(0x63C0 | uint16(max-1)))
		},
		Entry("券面AP birth-date key", needsCIPIN, aidVisual, "0011", "000000", 10, withBirthKey),
		Entry("券面AP 照合番号B", needsCIPIN, aidVisual, "0012", "00000000000000", 10, withCodeB),
		Entry("券面AP 照合番号A", needsCIPIN, aidVisual, "0013", "000000000000", 10, withCodeA),
		Entry("住基AP PIN", simOnly, aidJuki, "001C", "0000", 3, secret(func() (*session, string) {
			s := open(profile.Default())
			return s, s.p.PINs.Resident
		})),
		Entry("共通カードAP PIN", simOnly, aidCommon, "001C", "0000", 3, secret(func() (*session, string) {
			s := open(profile.Default())
			return s, s.p.PINs.Common
		})),
	)
})

var _ = Describe("券面AP (card face)", func() {
	DescribeTable("what each key opens (docs/card.md §5.4)", physicalSafe, needsCIPIN,
		func(fid string, key secret, open map[string]bool) {
			s, value := key()
			s.selectAP(aidVisual)
			Expect(s.verify(fid, value)).To(HaveStatusWord(0x9000))
			for _, ef := range []string{"0001", "0002", "0005", "0006"} {
				_, sw := s.read(ef)
				want := uint16(0x6982)
				if open[ef] {
					want = 0x9000
				}
				Expect(sw).To(Equal(want), "EF %s", ef)
			}
		},
		Entry("the birth date opens the age record", "0011", withBirthKey, map[string]bool{"0001": true}),
		Entry("照合番号B opens the face", "0012", withCodeB, map[string]bool{"0002": true, "0006": true}),
		Entry("照合番号A opens the face and the My Number image", "0013", withCodeA,
			map[string]bool{"0002": true, "0005": true, "0006": true}),
	)

	It("has a card face signed by the key EF 0004 certifies, with PNG images, a JPEG 2000 photo and the card's own facts", physicalSafe, needsCIPIN, func() {
		s := onCard()
		_, text := s.textFacts()
		expiry := s.getData("00F2")
		codeA := s.myNumber()
		s.selectAP(aidVisual)
		issuerKey := certKey(s.mustRead("0004"))
		Expect(s.verify("0013", codeA)).To(HaveStatusWord(0x9000))
		face := s.mustRead("0002")
		f := children(face, 0xFF20)
		Expect(bytes.Equal(f[0xDF22].value, text[0xDF24].value)).To(BeTrue(), "the face's birth date (DF22) is the text applet's (DF24)")
		Expect(bytes.Equal(f[0xDF23].value, text[0xDF25].value)).To(BeTrue(), "the face's sex (DF23) is the text applet's (DF25)")
		Expect(bytes.Equal(f[0xDF29].value, expiry)).To(BeTrue(), "the face's expiry (DF29) is the card's (GET DATA 00F2)")
		for _, tag := range []uint32{0xDF25, 0xDF26, 0xDF2A} {
			_, err := png.Decode(bytes.NewReader(f[tag].value))
			Expect(err).NotTo(HaveOccurred(), "image %X", tag)
		}
		Expect(f[0xDF27].value[4:12]).To(Equal([]byte("jP  \r\n\x87\n")))

		var digests []byte
		for _, seg := range [][]uint32{{0xDF22, 0xDF23, 0xDF24}, {0xDF25, 0xDF26}, {0xDF27}} {
			var b []byte
			for _, tag := range seg {
				b = append(b, f[tag].raw...)
			}
			h := sha256.Sum256(b)
			digests = append(digests, h[:]...)
		}
		di := append([]byte{0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x60}, digests...)
		Expect(rsa.VerifyPKCS1v15(issuerKey, crypto.Hash(0), di, f[0xDF28].value)).To(Succeed())

		// The public key in DF24 is the applet's own: a challenge it signs
		// with no PIN verifies under it.
		challenge := sha256.Sum256([]byte("challenge"))
		digestInfo := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, challenge[:]...)
		r := s.send("80 2A 00 00 33 %X 00", digestInfo)
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(rsa.VerifyPKCS1v15(rsaKey(f[0xDF24].value), crypto.SHA256, challenge[:], r.Data)).To(Succeed())
	})

	It("serves the basic info, naming the card's municipality, and the certificate with no key", physicalSafe, func() {
		s := onCard()
		municipality := s.getData("00F0")
		Expect(digits(municipality, 5)).To(BeTrue(), "the municipality code (GET DATA 00F0) is 5 digits")
		s.selectAP(aidVisual)
		info := children(s.mustRead("0003"), 0xFF30)
		Expect(info[0xDF31].value).To(HaveLen(4))
		Expect(bytes.Equal(info[0xDF34].value, municipality)).To(BeTrue(), "the basic info's municipality (DF34) is the card's (GET DATA 00F0)")
		Expect(s.mustRead("0004")[:5]).To(Equal([]byte{0x7F, 0x21, 0x82, 0x02, 0x33}))
	})
})

// What only the simulator knows: the values of the profile a card was
// issued from, and the card-info CAs' keys.
var _ = Describe("The card's known values in every applet", simOnly, func() {
	It("holds the profile's My Number, four facts, face, expiry and municipality, full tries on every key, and EF 0004 certified by the card-info CAs", func() {
		s := open(profile.Default())
		for _, q := range sevenKeys {
			s.selectAP(q.aid)
			Expect(s.status(q.fid)).To(HaveStatusWord(0x63C0|q.max), "%s/%s", q.aid, q.fid)
		}

		s.selectAP(aidText)
		certified(s.mustRead("0004"), s.textCA)
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
		Expect(s.mustRead("0001")).To(Equal(append([]byte{0xFF, 0x10, 0x0C}, "123456789018\xFF\xFF"...)))
		text := children(s.mustRead("0002"), 0xFF20)
		Expect(string(text[0xDF22].value)).To(Equal("試験　花子"))
		Expect(string(text[0xDF23].value)).To(Equal("東京都千代田区試験町一丁目２番３号"))
		Expect(string(text[0xDF24].value)).To(Equal("19900102"))
		Expect(string(text[0xDF25].value)).To(Equal("2"))

		Expect(string(s.getData("00F2"))).To(Equal("20360102"))
		Expect(string(s.getData("00F0"))).To(Equal("13101"))
		s.selectAP(aidVisual)
		certified(s.mustRead("0004"), s.visualCA)
		info := children(s.mustRead("0003"), 0xFF30)
		Expect(info[0xDF31].value).To(Equal([]byte{0x06, 0x03, 0x0E, 0x01}))
		Expect(string(info[0xDF34].value)).To(Equal("13101"))
		Expect(s.verify("0013", defaultMyNumber)).To(HaveStatusWord(0x9000))
		face := children(s.mustRead("0002"), 0xFF20)
		Expect(string(face[0xDF22].value)).To(Equal("19900102"))
		Expect(string(face[0xDF23].value)).To(Equal("2"))
		Expect(string(face[0xDF29].value)).To(Equal("20360102"))

		s.selectAP(aidCommon)
		r := s.send("00 B2 01 0C 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(30))
		Expect(string(r.Data[17:])).To(Equal("1310120360102"))
	})
})

var _ = Describe("共通カードAP and 住基AP", func() {
	It("reads record 1 of the common applet as myna-rs does (00 B2 01 0C 00): the card's municipality and expiry", physicalSafe, func() {
		s := onCard()
		municipality, expiry := s.getData("00F0"), s.getData("00F2")
		s.selectAP(aidCommon)
		r := s.send("00 B2 01 0C 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(30))
		Expect(r.Data[:2]).To(Equal([]byte{0x01, 0x1C}))
		Expect(bytes.Equal(r.Data[17:22], municipality)).To(BeTrue(), "the record's municipality is the card's (GET DATA 00F0)")
		Expect(bytes.Equal(r.Data[22:], expiry)).To(BeTrue(), "the record's expiry is the card's (GET DATA 00F2)")
	})

	It("answers INTERNAL AUTHENTICATE with key 0019 and no PIN", physicalSafe, func() {
		s := onCard()
		s.selectAP(aidCommon)
		r := s.send("00 88 00 99 08 0102030405060708 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(256))
	})

	DescribeTable("changes the 001C PIN with CHANGE KEY (80 32 00 80)", simOnly,
		func(aid string, pin func(p profile.Profile) string) {
			s := open(profile.Default())
			s.selectAP(aid)
			Expect(s.verify("001C", pin(*s.p))).To(HaveStatusWord(0x9000))
			Expect(s.send("80 32 00 80 04 34333231")).To(HaveStatusWord(0x9000))
			s.selectAP(aid)
			Expect(s.verify("001C", "4321")).To(HaveStatusWord(0x9000))
		},
		Entry("住基AP", aidJuki, func(p profile.Profile) string { return p.PINs.Resident }),
		Entry("共通カードAP", aidCommon, func(p profile.Profile) string { return p.PINs.Common }),
	)

	It("keeps the 住基AP record behind its PIN", simOnly, func() {
		s := open(profile.Default())
		s.selectAP(aidJuki)
		Expect(s.send("00 B2 01 0C 00")).To(HaveStatusWord(0x6982))
		Expect(s.verify("001C", s.p.PINs.Resident)).To(HaveStatusWord(0x9000))
		Expect(s.send("00 B2 01 0C 00")).To(HaveStatusWord(0x9000))
	})
})

var _ = Describe("MF level (docs/card.md §3.6)", physicalSafe, func() {
	It("answers GET DATA for the municipality, the expiry and the ATR, and refuses to read 001E", func() {
		s := onCard()
		Expect(harness.Reset(s.t)).To(Succeed())
		Expect(s.send("00 A4 00 00")).To(HaveStatusWord(0x6A86))
		_, ok := date(s.getData("00F2"))
		Expect(ok).To(BeTrue(), "the expiry (00F2) is a date YYYYMMDD")
		Expect(digits(s.getData("00F0"), 5)).To(BeTrue(), "the municipality (00F0) is 5 digits")
		r := s.send("00 CA 5F 51 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(8), "the contact ATR without TS")
		atr, err := harness.ATR(s.t)
		Expect(err).NotTo(HaveOccurred())
		if contact := len(atr) == 9 && atr[0] == 0x3B; contact {
			// Through a contactless reader the ATR is the reader's
			// pseudo-ATR; 5F51 still holds the contact one (§3.6).
			Expect(r.Data).To(Equal(atr[1:]))
		}
		s.selectEF("001E")
		Expect(s.send("00 B0 00 00 00")).To(HaveStatusWord(0x6981))
	})
})

var _ = Describe("after the municipal office records a move", simOnly, func() {
	It("serves the new address with a re-signed integrity record and face", func() {
		s := open(profile.Default())
		s.selectAP(aidVisual)
		Expect(s.verify("0012", s.codeB())).To(HaveStatusWord(0x9000))
		oldImage := children(s.mustRead("0002"), 0xFF20)[0xDF26].value
		s.changeFacts(func(f *profile.Facts) { f.Address = "北海道札幌市中央区新居町七丁目８番９号" })
		p := s.p

		s.selectAP(aidText)
		issuerKey := certified(s.mustRead("0004"), s.textCA)
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
		facts := s.mustRead("0002")
		Expect(string(children(facts, 0xFF20)[0xDF23].value)).To(Equal(p.Holder.Address))
		r := children(s.mustRead("0003"), 0xFF30)
		Expect(verifySHA256(issuerKey, append(r[0xDF31].raw, r[0xDF32].raw...), r[0xDF33].value)).To(Succeed())
		outer, _ := parse(facts)
		_, fromDF22 := parse(outer.value)
		h := sha256.Sum256(fromDF22)
		Expect(r[0xDF32].value).To(Equal(h[:]))

		s.selectAP(aidVisual)
		Expect(s.verify("0012", s.codeB())).To(HaveStatusWord(0x9000))
		img := children(s.mustRead("0002"), 0xFF20)[0xDF26].value
		_, err := png.Decode(bytes.NewReader(img))
		Expect(err).NotTo(HaveOccurred(), "the address image is a PNG")
		Expect(img).NotTo(Equal(oldImage), "the address image shows the new address")
	})

	It("moves 照合番号B and the birth-date key with a corrected birth date", func() {
		s := open(profile.Default())
		s.changeFacts(func(f *profile.Facts) { f.BirthDate = profile.NewDate(1985, time.March, 4) }) // Shōwa 60
		s.selectAP(aidVisual)
		Expect(s.verify("0011", defaultEraBirth)).To(HaveStatusWord(0x63C9))
		Expect(s.verify("0011", "600304")).To(HaveStatusWord(0x9000))
		Expect(string(children(s.mustRead("0001"), 0xFF10)[0xDF11].value)).To(Equal("19850304"))
	})
})
