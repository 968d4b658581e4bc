package interop_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/interop"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// The suite serves the simulated card on vpcd slot 0 of a real pcscd
// (pcscdenv) and checks it through OpenSC and pcsc-tools, the outside judges.
// Without pcscd or the tools it skips, except in
// CI (CI=true), where it fails.
func TestInterop(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "OpenSC and pcsc-tools interop")
}

const reader = pcscdenv.VPCDReader0

var (
	issued *simcard.Issued
	pins   struct{ auth, sign jpkiclient.PIN }
)

// The card sits on vpcd slot 0, so only process 1 serves it and every
// spec is Serial (ginkgo -p runs them on process 1).
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	p, err := pcscdenv.StartPCSCD(ctx)
	if reason, ok := pcscdenv.SkipReason(err); ok {
		Skip(reason)
	}
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Stop)

	err = interop.Require("opensc-tool", "pkcs15-tool", "pkcs11-tool", "pcsc_scan", "openssl")
	if err == nil {
		_, err = interop.PKCS11Module()
	}
	if err != nil && !pcscdenv.InCI() {
		Skip(err.Error())
	}
	Expect(err).NotTo(HaveOccurred(), "CI=true: the interop tools must be installed")

	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	Expect(err).NotTo(HaveOccurred())
	issued, err = is.Issue(profile.Default())
	Expect(err).NotTo(HaveOccurred())
	pins.auth, pins.sign = jpkiclient.PIN(issued.Profile.PINs.Auth), jpkiclient.PIN(issued.Profile.PINs.Sign)
	a, err := vpcdslot.Attach(ctx, issued.Card, 0)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(a.Detach)
	return nil
}, func([]byte) {}, NodeTimeout(3*time.Minute)) // includes waiting for the vpcd slot lock

func run(ctx context.Context, name string, args ...string) string {
	GinkgoHelper()
	out, err := interop.Run(ctx, "", name, args...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// triesLeft asks the card directly, through PC/SC and the harness client,
// not through OpenSC: the counter is judged independently of the tool.
func triesLeft(ref jpkiclient.PINRef) int {
	GinkgoHelper()
	c, err := pcsc.Establish()
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	card, err := c.Connect(reader, pcsc.Shared)
	Expect(err).NotTo(HaveOccurred())
	defer card.Close()
	cl := jpkiclient.New(card)
	Expect(cl.SelectAP()).To(Succeed())
	n, err := cl.TriesLeft(ref)
	Expect(err).NotTo(HaveOccurred())
	return n
}

var _ = Describe("the reader and the ATR", Serial, func() {
	It("opensc-tool -l lists the vpcd readers, slot 0 with a card", func(ctx SpecContext) {
		out := run(ctx, "opensc-tool", "-l")
		Expect(out).To(MatchRegexp(`(?m)^\d+\s+Yes\s+.*Virtual PCD 00 00$`))
		Expect(out).To(MatchRegexp(`(?m)^\d+\s+No\s+.*Virtual PCD 00 01$`))
	}, SpecTimeout(20*time.Second))

	It("opensc-tool -a prints the My Number Card's contact ATR", func(ctx SpecContext) {
		out := run(ctx, "opensc-tool", "--reader", reader, "-a")
		Expect(strings.TrimSpace(out)).To(Equal("3b:e0:00:ff:81:31:fe:45:14"))
		Expect(strings.ReplaceAll(strings.TrimSpace(out), ":", "")).To(Equal(fmt.Sprintf("%x", issued.Card.ATR())))
	}, SpecTimeout(20*time.Second))

	It("pcsc_scan shows the card inserted with its ATR", func(ctx SpecContext) {
		out := run(ctx, "pcsc_scan", "-t", "1")
		Expect(out).To(MatchRegexp(`Reader \d+: Virtual PCD 00 00`))
		Expect(out).To(ContainSubstring("Card state: Card inserted"))
		Expect(out).To(ContainSubstring("ATR: 3B E0 00 FF 81 31 FE 45 14"))
	}, SpecTimeout(20*time.Second))
})

var _ = Describe("pkcs15-tool", Serial, func() {
	It("lists the four JPKI certificates with OpenSC's labels", func(ctx SpecContext) {
		got := interop.ParseCertificates(run(ctx, "pkcs15-tool", "--reader", reader, "--list-certificates"))
		want := []interop.CertInfo{
			{Label: "User Authentication Certificate", ID: "01", Path: "000a"},
			{Label: "Digital Signature Certificate", ID: "02", Path: "0001", Private: true},
			{Label: "User Authentication Certificate CA", ID: "03", Path: "000b", Authority: true},
			{Label: "Digital Signature Certificate CA", ID: "04", Path: "0002", Authority: true},
		}
		Expect(cmp.Diff(want, got)).To(BeEmpty())
	}, SpecTimeout(20*time.Second))

	It("shows both PINs with full tries", func(ctx SpecContext) {
		tries := interop.ParsePINTries(run(ctx, "pkcs15-tool", "--reader", reader, "--list-pins"))
		Expect(tries).To(Equal(map[string]int{"User Authentication PIN": 3, "Digital Signature PIN": 5}))
	}, SpecTimeout(20*time.Second))

	DescribeTable("--read-certificate returns exactly the card's certificate",
		func(ctx SpecContext, id string, pin func() jpkiclient.PIN, want func() []byte) {
			der, err := interop.ReadCertificate(ctx, reader, id, "02", pin())
			Expect(err).NotTo(HaveOccurred())
			Expect(der).To(Equal(want()))
		},
		Entry("01 auth", "01", func() jpkiclient.PIN { return "" }, func() []byte { return issued.AuthCert.Raw }, SpecTimeout(20*time.Second)),
		Entry("02 sign, with the sign PIN", "02", func() jpkiclient.PIN { return pins.sign }, func() []byte { return issued.SignCert.Raw }, SpecTimeout(20*time.Second)),
		Entry("03 auth CA", "03", func() jpkiclient.PIN { return "" }, func() []byte { return issued.Authority().AuthCA.Cert.Raw }, SpecTimeout(20*time.Second)),
		Entry("04 sign CA", "04", func() jpkiclient.PIN { return "" }, func() []byte { return issued.Authority().SignCA.Cert.Raw }, SpecTimeout(20*time.Second)),
	)

	It("does not hand out the sign certificate without the sign PIN", func(ctx SpecContext) {
		// OpenSC leaves the card as it is on exit (disconnect_action leave),
		// and a card keeps its verified PINs when the applet is selected
		// again (docs/card.md §5.1): a sign PIN an earlier spec verified
		// still holds until the card is reset or pcscd powers it down.
		run(ctx, "opensc-tool", "--reader", reader, "--reset", "warm")
		out, err := interop.Run(ctx, "", "pkcs15-tool", "--reader", reader, "--read-certificate", "02")
		Expect(err).To(HaveOccurred())
		Expect(out).NotTo(ContainSubstring("BEGIN CERTIFICATE"))
	}, SpecTimeout(20*time.Second))
})

var _ = Describe("pkcs11-tool", Ordered, Serial, func() {
	data := []byte("mynahil interop: signed through OpenSC's PKCS#11 module")

	It("signs with the auth key after C_Login, and openssl verifies it with the auth certificate", func(ctx SpecContext) {
		sig, err := interop.Sign(ctx, reader, interop.AuthToken, "01", "SHA256-RSA-PKCS", pins.auth, data)
		Expect(err).NotTo(HaveOccurred())
		Expect(sig).To(HaveLen(jpkiclient.SignatureLen))
		Expect(interop.OpenSSLVerify(ctx, issued.AuthCert.Raw, data, sig)).To(Succeed())
		Expect(interop.OpenSSLVerify(ctx, issued.AuthCert.Raw, append([]byte("x"), data...), sig)).NotTo(Succeed(),
			"openssl accepted the signature over other data")
		Expect(interop.OpenSSLVerify(ctx, issued.SignCert.Raw, data, sig)).NotTo(Succeed(),
			"the auth key's signature verified with the sign certificate")
	}, SpecTimeout(30*time.Second))

	It("spends exactly one auth try on a wrong PIN, and a right one restores them", speclabel.Of(speclabel.Destructive), func(ctx SpecContext) {
		Expect(triesLeft(jpkiclient.AuthPIN)).To(Equal(3))
		_, err := interop.Sign(ctx, reader, interop.AuthToken, "01", "SHA256-RSA-PKCS", "9999", data)
		Expect(err).To(MatchError(ContainSubstring("CKR_PIN_INCORRECT")))
		Expect(err.Error()).NotTo(ContainSubstring("9999"))
		Expect(triesLeft(jpkiclient.AuthPIN)).To(Equal(2))
		Expect(triesLeft(jpkiclient.SignPIN)).To(Equal(5), "a wrong auth PIN touched the sign PIN")

		_, err = interop.Sign(ctx, reader, interop.AuthToken, "01", "SHA256-RSA-PKCS", pins.auth, data)
		Expect(err).NotTo(HaveOccurred())
		Expect(triesLeft(jpkiclient.AuthPIN)).To(Equal(3))
	}, SpecTimeout(30*time.Second))

	It("needs the sign PIN, not the auth PIN, for the signing key", speclabel.Of(speclabel.Destructive), func(ctx SpecContext) {
		// The auth token does not hold key 02 at all.
		_, err := interop.Sign(ctx, reader, interop.AuthToken, "02", "SHA256-RSA-PKCS", pins.auth, data)
		Expect(err).To(HaveOccurred())

		// A wrong sign PIN of valid form reaches the card and costs one sign try.
		Expect(triesLeft(jpkiclient.SignPIN)).To(Equal(5))
		_, err = interop.Sign(ctx, reader, interop.SignToken, "02", "SHA256-RSA-PKCS", "WRONG1", data)
		Expect(err).To(MatchError(ContainSubstring("CKR_PIN_INCORRECT")))
		Expect(triesLeft(jpkiclient.SignPIN)).To(Equal(4))
		Expect(triesLeft(jpkiclient.AuthPIN)).To(Equal(3), "a wrong sign PIN touched the auth PIN")

		sig, err := interop.Sign(ctx, reader, interop.SignToken, "02", "SHA256-RSA-PKCS", pins.sign, data)
		Expect(err).NotTo(HaveOccurred())
		Expect(interop.OpenSSLVerify(ctx, issued.SignCert.Raw, data, sig)).To(Succeed())
		Expect(interop.OpenSSLVerify(ctx, issued.AuthCert.Raw, data, sig)).NotTo(Succeed())
		Expect(triesLeft(jpkiclient.SignPIN)).To(Equal(5))
	}, SpecTimeout(30*time.Second))
})
