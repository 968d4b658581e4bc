package cardinfo_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/target"
)

// undoCardInfoLockout puts the card-info PIN back to every try: the right
// PIN when it has tries left, else the office's re-set at the counter
// (target.AtCounter on a physical card, the world's office on a simulated
// one); then the PIN opens the applet. Call it from a cleanup registered
// before the first wrong try (docs/physical-cards.md, "Counter steps").
func (s *session) undoCardInfoLockout() {
	GinkgoHelper()
	s.selectAP(aidText)
	if s.status("0011").SW == 0x63C0 {
		By("having the office re-set the card-info PIN at the counter")
		if tgt != nil {
			Expect(tgt.AtCounter(operator.ResetCardInfoPIN, jpkiclient.AuthPIN)).To(Succeed())
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			step := operator.Step{Action: operator.ResetCardInfoPIN, Value: s.pins.CardInfo, Reader: "the world's reader"}
			Expect(s.w.Counter(s.card).Do(ctx, step)).To(Succeed())
			if s.w.Kind != target.Sim {
				// The card left its reader for the counter: a new
				// connection (no trace: a cleanup cannot attach one).
				s.t = s.w.Insert(s.card)
			}
		}
		Expect(harness.Reset(s.t)).To(Succeed())
		s.selectAP(aidText)
		Expect(s.status("0011")).To(HaveStatusWord(0x63C3))
	}
	Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000))
	Expect(s.status("0011")).To(HaveStatusWord(0x63C3))
}
