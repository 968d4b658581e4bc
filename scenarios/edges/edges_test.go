package edges_test

import (
	"crypto/x509"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/speclabel"
	"github.com/mynahil/mynahil/simcard/profile"
)

var _ = Describe("The MF level (myna-card mf.rs)", speclabel.Of(speclabel.PhysicalSafe), func() {
	It("answers the large GET DATA objects only to an extended Le, as myna-card's get_data retries", func() {
		t := card()
		for _, tag := range []string{"00 F8", "7F 21"} {
			expectSW(t, "00 CA "+tag+" 00", "6700")
			obj := expectSW(t, "00 CA "+tag+" 00 00 00", "9000")
			Expect(len(obj)).To(BeNumerically(">", 256))
			Expect(obj[:2]).To(Equal([]byte{0x5F, 0x4E}), "a CV certificate body")
		}
	})
	It("answers MF objects only at the MF level, 5F51 everywhere, and the ISD select returns there", func() {
		t := card()
		expectSW(t, "00 CA 00 F0 00", "9000")
		expectSW(t, selJPKI, "9000")
		expectSW(t, "00 CA 00 F0 00", "6A88")
		expectSW(t, "00 CA 00 F8 00 00 00", "6A88")
		expectSW(t, "00 CA 5F 51 00", "9000")
		expectSW(t, selISD, "9000")
		expectSW(t, "00 CA 00 F0 00", "9000")
		expectSW(t, "00 A4 02 0C 02 00 0A", "6A82")
	})
	It("refuses the ISO MF select after reset and 3F00", func() {
		t := card()
		expectSW(t, "00 A4 00 00", "6A86")
		expectSW(t, "00 A4 00 0C 02 3F 00", "6A82")
	})
})

var _ = Describe("Commands real clients send", speclabel.Of(speclabel.PhysicalSafe), func() {
	It("answers 80 A2 with 6700 for a wrong length (jsapdu) and 6A86 for other P1-P2 (myna-card)", func() {
		t := card()
		expectSW(t, selJPKI, "9000")
		expectSW(t, "80 A2 00 C1 00 01 00 "+strings.Repeat("00 ", 256)+"00 00", "6700")
		expectSW(t, "80 A2 00 00 02 00 00", "6A86")
	})
	It("answers secure-messaging CLAs 69FC on READ and VERIFY and 6882 on SELECT, and 80 AE 6982", func() {
		t := card()
		expectSW(t, selJPKI, "9000")
		expectSW(t, "08 B0 00 00 00", "69FC")
		expectSW(t, "08 20 00 80", "69FC")
		expectSW(t, "08 A4 02 0C 02 00 0A", "6882")
		expectSW(t, "80 AE 00 00 10 "+strings.TrimSpace(strings.Repeat("00 ", 16)), "6982")
	})
	It("has the EFs EF scans find, with their access answers", func() {
		t := card()
		expectSW(t, selJPKI, "9000")
		for _, ef := range []string{"00 05", "00 09", "00 10", "00 16", "00 19", "00 1C", "00 1E"} {
			expectSW(t, "00 A4 02 0C 02 "+ef, "9000")
		}
		expectSW(t, "00 A4 02 0C 02 00 09", "9000")
		expectSW(t, "00 B0 00 00 00", "6982")
	})
})

var _ = Describe("Certificates shaped like the real ones", speclabel.Of(speclabel.PhysicalSafe), func() {
	It("has an auth certificate within 10% of the real card's 1,571 bytes, still from a test authority on a simulated card", func() {
		c := jpkiclient.New(card())
		Expect(c.SelectAP()).To(Succeed())
		cert, der, err := c.ReadCertificate(jpkiclient.AuthCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(der)).To(BeNumerically("~", 1571, 157))
		Expect(cert.KeyUsage).To(Equal(x509.KeyUsageDigitalSignature))
		if !tgt.Physical() {
			Expect(cert.Issuer.String()).To(ContainSubstring("JPKI-TEST"))
			Expect(string(der)).To(ContainSubstring("TEST CERTIFICATE"))
		}
	})
})

var _ = Describe("Token variants (myna CheckCard)", speclabel.Of(speclabel.PhysicalSafe), func() {
	It("presents a token the clients accept", func() {
		c := jpkiclient.New(card())
		Expect(c.SelectAP()).To(Succeed())
		Expect(c.CheckToken()).To(Succeed())
	})
	It("lets clients tell the old Juki label and phone tokens apart", speclabel.Of(speclabel.SimOnly), func() {
		for tok, want := range map[string]error{profile.TokenJuki: jpkiclient.ErrUnexpectedToken, profile.TokenAndroid: nil, profile.TokenIPhone: nil} {
			p := profile.Default()
			p.Token = tok
			c := simClient(p)
			err := c.CheckToken()
			if want == nil {
				Expect(err).NotTo(HaveOccurred(), tok)
				label, err := c.TokenLabel()
				Expect(err).NotTo(HaveOccurred())
				Expect(jpkiclient.PhoneToken(label)).To(BeTrue())
				_, _, err = c.ReadCertificate(jpkiclient.AuthCert)
				Expect(err).To(MatchError(ContainSubstring("6982")), "%s: auth certificate without the auth PIN", tok)
			} else {
				Expect(err).To(MatchError(want), tok)
			}
		}
	})
})
