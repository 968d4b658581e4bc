package lifecycle_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apdu"
	"github.com/mynahil/mynahil/harness/jpki"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

var _ = Describe("A proxy at the counter", Ordered, Label("sim-only"), func() {
	// docs/lifecycle-rules.md §2: a proxy (任意代理人) cannot complete on the day;
	// the office mails an inquiry/answer form, the holder writes the PIN and
	// seals it, the proxy brings it back.
	var (
		w *world
		c *office.Card
		q office.Inquiry
	)

	BeforeAll(func() {
		w = newWorld(at(2026, time.April, 1, 10))
		var err error
		c, err = w.office.IssueCard(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		h := insert(c)
		for range 3 {
			Expect(h.client.VerifyPIN(jpki.AuthPIN, "0000")).To(MatchError(apdu.ErrWrongPIN))
		}
		Expect(h.client.TriesLeft(jpki.AuthPIN)).To(Equal(0))
	})

	It("files the application and leaves the PIN locked", func() {
		w.clock.Set(at(2026, time.May, 11, 10))
		var err error
		q, err = w.office.FileProxy(c.ID, office.ProxyResetPIN, authority.Auth)
		Expect(err).NotTo(HaveOccurred())
		Expect(q.ID).NotTo(BeEmpty())
		Expect(insert(c).client.TriesLeft(jpki.AuthPIN)).To(Equal(0))
	})

	It("refuses to complete on the same day", func() {
		w.clock.Set(at(2026, time.May, 11, 16))
		Expect(w.office.AnswerInquiry(q.ID, "2468")).To(refusedBy(office.RuleProxyTwoVisits))
		Expect(insert(c).client.TriesLeft(jpki.AuthPIN)).To(Equal(0))
	})

	It("completes with the sealed answer on a later visit", func() {
		w.clock.Set(at(2026, time.May, 18, 10))
		Expect(w.office.AnswerInquiry(q.ID, "2468")).To(Succeed())
		h := insert(c)
		Expect(h.client.TriesLeft(jpki.AuthPIN)).To(Equal(3))
		Expect(h.client.VerifyPIN(jpki.AuthPIN, "2468")).To(Succeed())
		w.expectVerdict(h.authCert(), relyingparty.Valid{})
		Expect(w.office.Inquiries()).To(BeEmpty())
	})

	It("lets the holder in person complete at once", func() {
		Expect(w.office.ResetPIN(c.ID, authority.Sign, "INPERSON1")).To(Succeed())
		h := insert(c)
		Expect(h.client.VerifyPIN(jpki.SignPIN, "INPERSON1")).To(Succeed())
	})
})
