package simd

import (
	"context"
	"time"
)

// DefaultRemovalTime is how long an office change keeps a card out of its
// reader: pcscd notices a removal only when one of its presence polls,
// every ~0.44 s, finds the slot empty (docs/vpcd-pcscd.md §3.4), so the card
// stays out longer than one poll period, with a margin. Should pcscd still
// miss it, the card side takes the card out again for longer
// (vpcd.CardSide.TakeOut).
const DefaultRemovalTime = 600 * time.Millisecond

// takeOut is the office's counter (office.Office.SetCounter): a card that
// sits in its reader leaves it before the office changes its chip, and
// comes back once the operation is over, at least Config.RemovalTime
// later, so that PC/SC clients see SCARD_W_REMOVED_CARD and reconnect
// instead of talking to a card changed under their session. The change
// itself takes the chip's lock, so it never lands in the middle of an
// APDU. A card that is not inserted is changed where it is.
func (d *Daemon) takeOut(cardID string) (putBack func()) {
	v, ok := d.byID.Load(cardID)
	if !ok {
		return nil
	}
	n, side := v.(*slot).where()
	if side == nil || !side.Inserted() {
		return nil
	}
	d.log.Info("office takes the card out of its reader", "card", cardID, "slot", n, "reader", ReaderName(n))
	out := time.Now()
	side.TakeOut(d.cfg.RemovalTime)
	return func() {
		if left := d.cfg.RemovalTime - time.Since(out); left > 0 {
			time.Sleep(left)
		}
		side.Insert()
		back := time.Now()
		// The operation answers once the reader has the card again, so a
		// client can use the changed card as soon as the office is done.
		ctx, cancel := context.WithTimeout(context.Background(), putBackWait)
		defer cancel()
		if err := side.WaitPowered(ctx); err != nil {
			d.log.Warn("the reader has not taken the card back; answering anyway (is pcscd running?)", "card", cardID,
				"slot", n, "waited", putBackWait)
		}
		d.log.Info("office put the card back into its reader", "card", cardID, "slot", n,
			"out", back.Sub(out).Round(time.Millisecond), "reader_took_it_after", time.Since(back).Round(time.Millisecond))
	}
}

// putBackWait bounds how long an office operation waits for the reader to
// power the card up after putting it back: pcscd needs one presence poll,
// about 0.44 s (docs/vpcd-pcscd.md §3.4).
const putBackWait = 5 * time.Second
