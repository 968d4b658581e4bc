package cardinfoclient_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/target"
)

// undoCardInfoLockout puts the card-info PIN back to every try: the right
// PIN when it has tries left, else the office's re-set at the counter
// (target.AtCounter on a physical card, the world's office on a simulated
// one); then the PIN reads the My Number. Call it from a cleanup registered
// before the first wrong try (docs/physical-cards.md, "Counter steps").
func (h *holder) undoCardInfoLockout() {
	GinkgoHelper()
	st, err := h.c.PINStatus()
	Expect(err).NotTo(HaveOccurred())
	if st.TextPIN == 0 {
		By("having the office re-set the card-info PIN at the counter")
		if tgt != nil {
			Expect(tgt.AtCounter(operator.ResetCardInfoPIN, jpkiclient.AuthPIN)).To(Succeed())
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			step := operator.Step{Action: operator.ResetCardInfoPIN, Value: h.pin, Reader: "the world's reader"}
			Expect(h.w.Counter(h.card).Do(ctx, step)).To(Succeed())
			if h.w.Kind != target.Sim {
				// The card left its reader for the counter: a new
				// connection (no trace: a cleanup cannot attach one).
				h.t = h.w.Insert(h.card)
				h.c = cardinfoclient.New(h.t)
			}
		}
		Expect(harness.Reset(h.t)).To(Succeed())
		Expect(h.c.PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3))
	}
	Expect(h.c.Select(cardinfoclient.TextAP)).To(Succeed())
	Expect(h.c.MyNumber(h.pin)).Error().NotTo(HaveOccurred())
	Expect(h.c.PINStatus()).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3))
}
