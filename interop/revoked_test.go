package interop_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/interop"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// revokedReader holds a card whose holder gave the auth certificate up at
// the counter (office revoke --kind auth): OpenSC's view of it must stay
// sane (docs/card.md §6.1): every certificate listed, the CA certificates
// included, the auth key RSA 2048, the auth PIN locked, not an error.
const revokedReader = pcscdenv.VPCDReader1

var _ = Describe("a card whose auth certificate was given up at the counter", Ordered, Serial, func() {
	var module string
	BeforeAll(func(ctx SpecContext) {
		clk := clock.NewVirtual(clock.Date(2026, time.April, 1))
		is, err := simcard.NewIssuer(clk, nil)
		Expect(err).NotTo(HaveOccurred())
		o := office.New(clk, is)
		c, err := o.IssueCard(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		Expect(o.RevokeCertificate(c.ID, authority.Auth)).To(Succeed())
		a, err := vpcdslot.Attach(ctx, c.Chip, 1)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(a.Detach)
		module, err = interop.PKCS11Module()
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(3*time.Minute))

	It("pkcs11-tool -L shows the auth token with its PIN locked", func(ctx SpecContext) {
		out := run(ctx, "pkcs11-tool", "--module", module, "--list-slots")
		slot := interop.ParseSlot(out, revokedReader, interop.AuthToken)
		Expect(slot).NotTo(BeEmpty(), "the auth token in %q:\n%s", revokedReader, out)
		Expect(tokenFlags(out, revokedReader, interop.AuthToken)).To(ContainSubstring("user PIN locked"))
		Expect(tokenFlags(out, revokedReader, interop.SignToken)).NotTo(ContainSubstring("locked"))
	}, SpecTimeout(30*time.Second))

	It("pkcs11-tool -O on the auth token lists the certificates, the CA certificates included, and a 2048-bit key", func(ctx SpecContext) {
		slot, err := interop.FindSlot(ctx, revokedReader, interop.AuthToken)
		Expect(err).NotTo(HaveOccurred())
		out := run(ctx, "pkcs11-tool", "--module", module, "--slot", slot, "--list-objects")
		for _, label := range []string{"User Authentication Certificate", "User Authentication Certificate CA", "Digital Signature Certificate CA"} {
			Expect(out).To(ContainSubstring("label:      "+label+"\n"), "certificate %q in:\n%s", label, out)
		}
		Expect(out).NotTo(ContainSubstring("RSA 0 bits"))
		Expect(out).To(ContainSubstring("RSA 2048 bits"))
	}, SpecTimeout(30*time.Second))

	It("pkcs15-tool lists the four certificates and the auth PIN with no tries left", func(ctx SpecContext) {
		certs := interop.ParseCertificates(run(ctx, "pkcs15-tool", "--reader", revokedReader, "--list-certificates"))
		Expect(certs).To(HaveLen(4))
		tries := interop.ParsePINTries(run(ctx, "pkcs15-tool", "--reader", revokedReader, "--list-pins"))
		Expect(tries).To(Equal(map[string]int{"User Authentication PIN": 0, "Digital Signature PIN": 5}))
	}, SpecTimeout(30*time.Second))
})

// tokenFlags returns the "token flags" line of the token labelled token in
// reader, from `pkcs11-tool --list-slots`.
func tokenFlags(out, reader, token string) string {
	blocks := strings.Split(out, "Slot ")
	for _, b := range blocks {
		first, _, _ := strings.Cut(b, "\n")
		if !strings.HasSuffix(strings.TrimSpace(first), reader) || !strings.Contains(b, token) {
			continue
		}
		for _, l := range strings.Split(b, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "token flags"); ok {
				return v
			}
		}
	}
	return ""
}
