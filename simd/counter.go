package simd

import (
	"context"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/office"
)

// DefaultRemovalTime is how long an office change keeps a card out of its
// reader: pcscd notices a removal only when one of its presence polls,
// every ~0.44 s, finds the slot empty (docs/vpcd-pcscd.md §3.4), so the card
// stays out longer than one poll period, with a margin. Should pcscd still
// miss it, the card side takes the card out again for longer
// (vpcd.CardSide.TakeOut).
const DefaultRemovalTime = 600 * time.Millisecond

// DefaultPutBackWait bounds how long an office operation waits for the
// reader to power the card up after putting it back: pcscd needs one
// presence poll, about 0.44 s (docs/vpcd-pcscd.md §3.4).
const DefaultPutBackWait = 5 * time.Second

// readers are the daemon's vpcd readers as the office sees them
// (office.Readers): a card that sits in its reader leaves it before the
// office changes its chip and comes back once the office's lock is
// released, at least Config.RemovalTime later, so that PC/SC clients see
// SCARD_W_REMOVED_CARD and reconnect instead of talking to a card changed
// under their session. The change itself takes the chip's lock, so it never
// lands in the middle of an APDU. A card that is not inserted is changed
// where it is.
type readers struct{ d *Daemon }

var _ office.Readers = readers{}

func (r readers) slot(cardID string) *slot {
	v, ok := r.d.byID.Load(cardID)
	if !ok {
		return nil
	}
	return v.(*slot)
}

// Hold holds the card (slot.hold): sim.place, sim.insert, sim.remove and
// the signals wait for the visit, and it for them.
func (r readers) Hold(cardID string) func() {
	s := r.slot(cardID)
	if s == nil {
		return func() {}
	}
	return hold(s)
}

// TakeOut runs under the office's lock: it only closes the card's vpcd
// connection.
func (r readers) TakeOut(cardID string) bool {
	s := r.slot(cardID)
	if s == nil {
		return false
	}
	n, side := s.where()
	if side == nil || !side.Inserted() {
		return false
	}
	r.d.log.Info("office takes the card out of its reader", "card", cardID, "slot", n, "reader", ReaderName(n))
	s.outAt = time.Now()
	side.TakeOut(r.d.cfg.RemovalTime)
	return true
}

// PutBack runs after the office's lock is released. It answers once the
// reader has powered the card up again, so a client can use the changed
// card as soon as the office is done; a reader that does not within
// Config.PutBackWait is reported (the operation's command exits 3).
func (r readers) PutBack(cardID string) *simapi.NotBack {
	s := r.slot(cardID)
	if s == nil {
		return nil
	}
	n, side := s.where()
	if left := r.d.cfg.RemovalTime - time.Since(s.outAt); left > 0 {
		time.Sleep(left)
	}
	side.Insert()
	back := time.Now()
	wait := r.d.cfg.PutBackWait
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := side.WaitPowered(ctx); err != nil {
		r.d.log.Warn("the reader has not taken the card back (is pcscd running?)", "card", cardID,
			"slot", n, "reader", ReaderName(n), "waited", wait)
		return &simapi.NotBack{Card: cardID, Reader: ReaderName(n), Waited: wait.String()}
	}
	r.d.log.Info("office put the card back into its reader", "card", cardID, "slot", n,
		"out", back.Sub(s.outAt).Round(time.Millisecond), "reader_took_it_after", time.Since(back).Round(time.Millisecond))
	return nil
}

// Added gives a card the office issued a slot, removed until sim.insert.
func (r readers) Added(*office.Card) { r.d.sync(false) }
