package cardinfo_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"image/png"
	"time"

	"github.com/mynahil/mynahil/harness"
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

var _ = Describe("券面事項入力補助AP (card-info input support)", func() {
	var s *session
	BeforeEach(func() {
		s = open(profile.Default())
		s.selectAP(aidText)
	})

	DescribeTable("what each key opens (docs/card.md §5.3)",
		func(fid string, secret func() string, myNumber, facts, integrity bool) {
			Expect(s.verify(fid, secret())).To(HaveStatusWord(0x9000))
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
		Entry("the 4-digit PIN opens both", "0011", func() string { return defaultPIN }, true, true, true),
		Entry("照合番号A opens the My Number only", "0014", func() string { return defaultMyNumber }, true, false, true),
		Entry("照合番号B opens the four facts only", "0015", func() string { return codeB(defaultEraBirth, s) }, false, true, true),
	)

	It("reads the My Number and the four facts with the PIN", func() {
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
		mn := s.mustRead("0001")
		Expect(mn).To(Equal(append([]byte{0xFF, 0x10, 0x0C}, "123456789018\xFF\xFF"...)))

		facts := s.mustRead("0002")
		f := children(facts, 0xFF20)
		Expect(string(f[0xDF22].value)).To(Equal("試験　花子"))
		Expect(string(f[0xDF23].value)).To(Equal("東京都千代田区試験町一丁目２番３号"))
		Expect(string(f[0xDF24].value)).To(Equal("19900102"))
		Expect(string(f[0xDF25].value)).To(Equal("2"))
		table := f[0xDF21].value
		Expect(table).To(HaveLen(8))
		for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
			at, _ := parse(facts[int(table[2*i])<<8|int(table[2*i+1]):])
			Expect(at.tag).To(Equal(tag), "offset %d", i)
		}
	})

	It("refuses protected files with no key verified (6982) and serves the free ones", func() {
		for _, ef := range []string{"0001", "0002", "0003", "0006", "0007"} {
			_, sw := s.read(ef)
			Expect(sw).To(Equal(uint16(0x6982)), "EF %s", ef)
		}
		Expect(s.mustRead("0004")).To(HaveLen(568))
		info := s.mustRead("0005")
		Expect(info).To(HaveLen(256))
		Expect(info[:8]).To(Equal([]byte{0xFF, 0x40, 0x82, 0x00, 0x9F, 0xDF, 0x41, 0x04}))
	})

	It("forgets a verified key when the applet is selected again (docs/card.md §5.1)", func() {
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
		s.mustRead("0001")
		s.selectAP(aidText)
		_, sw := s.read("0001")
		Expect(sw).To(Equal(uint16(0x6982)))
	})

	It("has an integrity record that verifies against EF 0004's key", func() {
		issuerKey := certified(s.mustRead("0004"), s.textCA)
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
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

	It("signs with the applet's own key with no PIN (80 2A 00 00)", func() {
		r := s.send("80 2A 00 00 20 %X 00", bytes.Repeat([]byte{0xAB}, 32))
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(256))
	})

	It("accepts the short-EF-ID forms jsapdu sends (VERIFY P2 = 80|SFI, READ BINARY P1 = 80|SFI)", func() {
		Expect(s.send("00 20 00 91")).To(HaveStatusWord(0x63C3))
		Expect(s.send("00 B0 81 00 00")).To(HaveStatusWord(0x6982))
		Expect(s.send("00 20 00 94 0C %X", defaultMyNumber)).To(HaveStatusWord(0x9000))
		r := s.send("00 B0 81 00 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(17))
		Expect(string(r.Data[3:15])).To(Equal(defaultMyNumber))
	})

	It("keeps 0012 blocked from issuance", func() {
		Expect(s.status("0012")).To(HaveStatusWord(0x63C0))
		Expect(s.send("00 20 00 80 04 31323334")).To(HaveStatusWord(0x6984))
	})

	It("changes the PIN after a VERIFY, within the 4-digit format", func() {
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x9000))
		Expect(s.send("00 24 01 80 05 3132333435")).To(HaveStatusWord(0x6A80))
		Expect(s.send("00 24 01 80 04 39383736")).To(HaveStatusWord(0x9000))
		s.selectAP(aidText)
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x63C2))
		Expect(s.verify("0011", "9876")).To(HaveStatusWord(0x9000))
	})
})

var _ = Describe("PIN status and lockouts across applets", func() {
	It("answers the status of all seven PINs in `myna pin status` order with 63Cx", func() {
		s := open(profile.Default())
		var got []uint16
		for _, q := range []struct{ aid, fid string }{
			{aidText, "0011"}, {aidText, "0014"}, {aidText, "0015"},
			{aidVisual, "0013"}, {aidVisual, "0012"},
			{aidJPKI, "0018"}, {aidJPKI, "001B"},
		} {
			s.selectAP(q.aid)
			r := s.status(q.fid)
			Expect(r).To(BeWrongPIN(), "%s/%s", q.aid, q.fid)
			got = append(got, r.SW)
		}
		Expect(got).To(Equal([]uint16{0x63C3, 0x63CA, 0x63CA, 0x63CA, 0x63CA, 0x63C3, 0x63C5}))
	})

	It("locks the card-info PIN without touching the JPKI authentication PIN", speclabel.Of(speclabel.Destructive, speclabel.SimOnly), func() {
		s := open(profile.Default())
		s.selectAP(aidText)
		for _, want := range []uint16{0x63C2, 0x63C1, 0x63C0} {
			Expect(s.verify("0011", "0000")).To(HaveStatusWord(want))
		}
		Expect(s.verify("0011", defaultPIN)).To(HaveStatusWord(0x6984))
		Expect(s.status("0011")).To(HaveStatusWord(0x63C0))
		Expect(s.status("0014")).To(HaveStatusWord(0x63CA))

		s.selectAP(aidJPKI)
		Expect(s.status("0018")).To(HaveStatusWord(0x63C3))
		Expect(s.verify("0018", s.p.PINs.Auth)).To(HaveStatusWord(0x9000))
	})

	DescribeTable("each applet counts its own tries", speclabel.Of(speclabel.Destructive, speclabel.SimOnly),
		func(aid, fid, wrong string, max int) {
			s := open(profile.Default())
			s.selectAP(aid)
			Expect(s.status(fid)).To(HaveStatusWord(0x63C0 | uint16(max)))
			Expect(s.verify(fid, wrong)).To(HaveStatusWord(0x63C0 | uint16(max-1)))
			s.selectAP(aidText)
			Expect(s.status("0011")).To(HaveStatusWord(0x63C3))
			s.selectAP(aid)
			Expect(s.status(fid)).To(HaveStatusWord(0x63C0 | uint16(max-1)))
		},
		Entry("券面AP birth-date key", aidVisual, "0011", "000000", 10),
		Entry("券面AP 照合番号B", aidVisual, "0012", "00000000000000", 10),
		Entry("券面AP 照合番号A", aidVisual, "0013", "000000000000", 10),
		Entry("住基AP PIN", aidJuki, "001C", "0000", 3),
		Entry("共通カードAP PIN", aidCommon, "001C", "0000", 3),
	)
})

var _ = Describe("券面AP (card face)", func() {
	var s *session
	BeforeEach(func() {
		s = open(profile.Default())
		s.selectAP(aidVisual)
	})

	DescribeTable("what each key opens (docs/card.md §5.4)",
		func(fid string, secret func() string, open map[string]bool) {
			Expect(s.verify(fid, secret())).To(HaveStatusWord(0x9000))
			for _, ef := range []string{"0001", "0002", "0005", "0006"} {
				_, sw := s.read(ef)
				want := uint16(0x6982)
				if open[ef] {
					want = 0x9000
				}
				Expect(sw).To(Equal(want), "EF %s", ef)
			}
		},
		Entry("the birth date opens the age record", "0011", func() string { return defaultEraBirth },
			map[string]bool{"0001": true}),
		Entry("照合番号B opens the face", "0012", func() string { return codeB(defaultEraBirth, s) },
			map[string]bool{"0002": true, "0006": true}),
		Entry("照合番号A opens the face and the My Number image", "0013", func() string { return defaultMyNumber },
			map[string]bool{"0002": true, "0005": true, "0006": true}),
	)

	It("has a card face signed by the key EF 0004 certifies, with PNG images and a JPEG 2000 photo", func() {
		issuerKey := certified(s.mustRead("0004"), s.visualCA)
		Expect(s.verify("0013", defaultMyNumber)).To(HaveStatusWord(0x9000))
		face := s.mustRead("0002")
		f := children(face, 0xFF20)
		Expect(string(f[0xDF22].value)).To(Equal("19900102"))
		Expect(string(f[0xDF23].value)).To(Equal("2"))
		Expect(string(f[0xDF29].value)).To(Equal("20360102"))
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

	It("serves the basic info and certificate with no key", func() {
		info := children(s.mustRead("0003"), 0xFF30)
		Expect(info[0xDF31].value).To(Equal([]byte{0x06, 0x03, 0x0E, 0x01}))
		Expect(string(info[0xDF34].value)).To(Equal("13101"))
		Expect(s.mustRead("0004")[:5]).To(Equal([]byte{0x7F, 0x21, 0x82, 0x02, 0x33}))
	})
})

var _ = Describe("共通カードAP and 住基AP", func() {
	It("reads record 1 of the common applet as myna-rs does (00 B2 01 0C 00)", func() {
		s := open(profile.Default())
		s.selectAP(aidCommon)
		r := s.send("00 B2 01 0C 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(30))
		Expect(r.Data[:2]).To(Equal([]byte{0x01, 0x1C}))
		Expect(string(r.Data[17:])).To(Equal("1310120360102"))
	})

	It("answers INTERNAL AUTHENTICATE with key 0019 and no PIN", func() {
		s := open(profile.Default())
		s.selectAP(aidCommon)
		r := s.send("00 88 00 99 08 0102030405060708 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(HaveLen(256))
	})

	DescribeTable("changes the 001C PIN with CHANGE KEY (80 32 00 80)",
		func(aid string, pin func(p profile.Profile) string) {
			s := open(profile.Default())
			s.selectAP(aid)
			Expect(s.verify("001C", pin(s.p))).To(HaveStatusWord(0x9000))
			Expect(s.send("80 32 00 80 04 34333231")).To(HaveStatusWord(0x9000))
			s.selectAP(aid)
			Expect(s.verify("001C", "4321")).To(HaveStatusWord(0x9000))
		},
		Entry("住基AP", aidJuki, func(p profile.Profile) string { return p.PINs.Resident }),
		Entry("共通カードAP", aidCommon, func(p profile.Profile) string { return p.PINs.Common }),
	)

	It("keeps the 住基AP record behind its PIN", func() {
		s := open(profile.Default())
		s.selectAP(aidJuki)
		Expect(s.send("00 B2 01 0C 00")).To(HaveStatusWord(0x6982))
		Expect(s.verify("001C", s.p.PINs.Resident)).To(HaveStatusWord(0x9000))
		Expect(s.send("00 B2 01 0C 00")).To(HaveStatusWord(0x9000))
	})
})

var _ = Describe("MF level (docs/card.md §3.6)", func() {
	It("answers GET DATA for the municipality, the expiry and the ATR, and refuses to read 001E", func() {
		s := open(profile.Default())
		Expect(harness.Reset(s.t)).To(Succeed())
		Expect(s.send("00 A4 00 00")).To(HaveStatusWord(0x6A86))
		r := s.send("00 CA 00 F2 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(string(r.Data)).To(Equal("20360102"))
		r = s.send("00 CA 00 F0 00")
		Expect(string(r.Data)).To(Equal("13101"))
		atr, err := harness.ATR(s.t)
		Expect(err).NotTo(HaveOccurred())
		r = s.send("00 CA 5F 51 00")
		Expect(r).To(HaveStatusWord(0x9000))
		Expect(r.Data).To(Equal(atr[1:]))
		s.selectEF("001E")
		Expect(s.send("00 B0 00 00 00")).To(HaveStatusWord(0x6981))
	})
})

var _ = Describe("after the municipal office records a move", func() {
	It("serves the new address with a re-signed integrity record and face", func() {
		s := open(profile.Default())
		s.selectAP(aidVisual)
		Expect(s.verify("0012", codeB(defaultEraBirth, s))).To(HaveStatusWord(0x9000))
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
		Expect(s.verify("0012", codeB(defaultEraBirth, s))).To(HaveStatusWord(0x9000))
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
