package simd

import "time"

// DefaultRemovalTime is how long an office change keeps a card out of its
// reader: pcscd notices a removal only when one of its presence polls,
// every ~0.44 s, finds the slot empty (vpcd-protocol.md §3.4), so the card
// stays out for two polls and a margin. Should pcscd still miss it, the
// card side takes the card out again for longer (vpcd.CardSide.TakeOut).
const DefaultRemovalTime = time.Second

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
	s := v.(*slot)
	if !s.side.Inserted() {
		return nil
	}
	d.log.Info("office takes the card out of its reader", "card", cardID, "slot", s.n, "reader", ReaderName(s.n))
	out := time.Now()
	s.side.TakeOut(d.cfg.RemovalTime)
	return func() {
		if left := d.cfg.RemovalTime - time.Since(out); left > 0 {
			time.Sleep(left)
		}
		s.side.Insert()
		d.log.Info("office puts the card back into its reader", "card", cardID, "slot", s.n,
			"out", time.Since(out).Round(time.Millisecond))
	}
}
