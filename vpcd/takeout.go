package vpcd

import (
	"context"
	"time"
)

// TakeOut removes the card as Remove does, for a change made while it is
// out (the municipal office's counter); Insert puts it back. The caller
// keeps it out for at least out: pcscd sees a removal only if one of its
// presence polls, every ~0.44 s, finds the slot empty (docs/vpcd-pcscd.md
// §3.4), and only then marks open handles SCARD_W_REMOVED_CARD.
//
// Should the reader still miss it (a poll delayed past out, or vpcd
// dropping the old connection on a failed transmit and accepting the new
// one in the same poll), the card would be changed under open handles.
// The card side catches that: pcscd powers a card up after every
// insertion it notices, so on the first connection after TakeOut an APDU
// that comes before any POWER_ON means the removal went unseen. The card
// then leaves again, for twice as long, until the reader notices.
func (s *CardSide) TakeOut(out time.Duration) {
	s.out.Store(int64(max(out, 10*time.Millisecond)))
	s.mu.Lock()
	s.powered = make(chan struct{})
	s.mu.Unlock()
	s.awaitPower.Store(true)
	s.Remove()
}

// WaitPowered waits, after TakeOut and Insert, until the reader has
// powered the card up again, which pcscd does once it has seen the card
// leave and come back: from then on PC/SC applications can connect to the
// changed card. It returns at once when no TakeOut is pending, and
// ctx.Err() when ctx ends first (pcscd not running, say).
func (s *CardSide) WaitPowered(ctx context.Context) error {
	s.mu.Lock()
	ch := s.powered
	s.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// markPowered releases WaitPowered.
func (s *CardSide) markPowered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.powered != nil {
		close(s.powered)
		s.powered = nil
	}
}

// wait sleeps d unless ctx ends first.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
