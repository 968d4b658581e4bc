package pcsc_test

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
)

// A wait that ends by its own deadline must not leave its SCardCancel to
// land on the next wait of the same context: that next wait would fail as
// "cancelled" with its own context alive (the flake of the insertion and
// removal spec on a busy machine).
var _ = Describe("Context waits", Serial, func() {
	It("never lets an ended wait cancel the next one", func(ctx SpecContext) {
		c := establish()
		for i := range 40 {
			short, cancel := context.WithTimeout(ctx, time.Duration(i%4)*time.Millisecond)
			_, err := c.WaitCard(short, pcscdenv.VPCDReader1)
			cancel()
			Expect(err).To(MatchError(pcsc.ErrCancelled))

			next, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_, err = c.WaitCard(next, pcscdenv.VPCDReader1)
			cancel()
			Expect(err).To(MatchError(pcsc.ErrCancelled), "wait %d", i)
			Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(),
				"wait %d ended by another wait's cancel, not its own deadline: %v", i, err)
		}
	}, SpecTimeout(time.Minute))
})
