package lifecycle_test

import (
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

var _ = Describe("A proxy at the counter", Ordered, speclabel.Of(speclabel.SimOnly), func() {
	// docs/lifecycle-rules.md §2: a proxy (任意代理人) cannot complete on the day;
	// the office mails an inquiry/answer form, the holder writes the PIN and
	// seals it, the proxy brings it back.
	var (
		w *world
		c *framework.Card
		q framework.Inquiry
	)

	BeforeAll(func() {
		w = newWorld(at(2026, time.April, 1, 10))
		var err error
		c, err = w.Office.IssueCard(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		h := w.insert(c)
		for range 3 {
			Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, "0000")).To(MatchError(apduclient.ErrWrongPIN))
		}
		Expect(h.client.TriesLeft(jpkiclient.AuthPIN)).To(Equal(0))
	})

	It("files the application and leaves the PIN locked", func() {
		w.Clock.Set(at(2026, time.May, 11, 10))
		var err error
		q, err = w.Office.FileProxy(c.ID, framework.ProxyResetPIN, framework.AuthCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(q.ID).NotTo(BeEmpty())
		Expect(w.insert(c).client.TriesLeft(jpkiclient.AuthPIN)).To(Equal(0))
	})

	It("refuses to complete on the same day", func() {
		w.Clock.Set(at(2026, time.May, 11, 16))
		Expect(w.Office.AnswerInquiry(q.ID, "2468")).To(refusedBy(framework.RuleProxyTwoVisits))
		Expect(w.insert(c).client.TriesLeft(jpkiclient.AuthPIN)).To(Equal(0))
	})

	It("completes with the sealed answer on a later visit", func() {
		w.Clock.Set(at(2026, time.May, 18, 10))
		Expect(w.Office.AnswerInquiry(q.ID, "2468")).To(Succeed())
		h := w.insert(c)
		Expect(h.client.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3))
		Expect(h.client.VerifyPIN(jpkiclient.AuthPIN, "2468")).To(Succeed())
		w.expectVerdict(h.authCert(), relyingparty.Valid{})
		Expect(w.Office.Inquiries()).To(BeEmpty())
	})

	It("lets the holder in person complete at once", func() {
		Expect(w.Office.ResetPIN(c.ID, framework.SignCert, "INPERSON1")).To(Succeed())
		h := w.insert(c)
		Expect(h.client.VerifyPIN(jpkiclient.SignPIN, "INPERSON1")).To(Succeed())
	})
})
