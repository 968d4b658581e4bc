package cardinfoclient_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

// The four facts are one source of truth (docs/card.md §3.2, docs/lifecycle-rules.md
// §1): a move recorded by the municipal office shows in the text applet, the
// integrity record is re-signed and verifies, and the signing certificate,
// which carries the old address, is revoked and taken off the card.
var _ = Describe("A change of address at the municipal office", speclabel.Of(speclabel.SimOnly), func() {
	It("updates the text applet, re-signs the integrity record and revokes the signing certificate", func() {
		p := profile.Default()
		h := newHolder(p)
		o := h.w.Office
		info, jp := h.c, jpkiclient.New(h.t)
		pin := cardinfoclient.PIN(p.PINs.CardInfo)

		By("reading the facts before the move")
		Expect(info.Select(cardinfoclient.TextAP)).To(Succeed())
		before, err := info.Facts(pin)
		Expect(err).NotTo(HaveOccurred())
		Expect(before.Address).To(Equal(p.Holder.Address))
		Expect(jp.SelectAP()).To(Succeed())
		Expect(jp.CertificatesPresent()).To(HaveField("Sign", true))

		By("recording the move at the office")
		moved := p.Holder
		moved.Address = "北海道札幌市中央区新居町七丁目８番９号"
		Expect(o.ChangeFacts(h.card.ID, moved)).To(Succeed())
		// The office took the card out of the reader for the change: the
		// holder puts it back.
		t := harness.Traced(h.w.Insert(h.card), ginkgotrace.ForSpec())
		info, jp = cardinfoclient.New(t), jpkiclient.New(t)

		By("the text applet shows the new address and its integrity record verifies")
		Expect(info.Select(cardinfoclient.TextAP)).To(Succeed())
		after, err := info.Facts(pin)
		Expect(err).NotTo(HaveOccurred())
		Expect(after.Address).To(Equal(moved.Address))
		Expect(after.Name).To(Equal(before.Name))
		_, err = info.VerifyIntegrity()
		Expect(err).NotTo(HaveOccurred())

		By("the signing certificate is gone from the card and revoked at the authority; authentication is untouched")
		Expect(jp.SelectAP()).To(Succeed())
		Expect(jp.CertificatesPresent()).To(And(HaveField("Sign", false), HaveField("Auth", true)))
		r, err := o.Report(h.card.ID)
		Expect(err).NotTo(HaveOccurred())
		sign := r.Certificate(framework.SignCert, framework.OnCard)
		Expect(sign.State).To(Equal("revoked"))
		Expect(sign.Reason).To(ContainSubstring("affiliationChanged"))
		Expect(r.Certificate(framework.AuthCert, framework.OnCard).State).To(Equal("valid"))
	})
})
