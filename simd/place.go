package simd

import (
	"fmt"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
)

// RuleBadSlot is carried by sim.place's error for a slot out of range.
const RuleBadSlot = "sim.bad-slot"

// Placement names a card and the slot to put it in (sim.place).
type Placement = simapi.Placement

// Place puts a card into a slot's reader as a person swaps cards in a
// reader: the card that was in that slot is taken out and detached from it
// (sim.list shows it in slot -1 until it is placed again), the slot stays
// empty for Config.RemovalTime, so that pcscd's presence poll sees the
// removal (docs/vpcd-pcscd.md §3.4), and the named card goes in, inserted;
// the slot it came from, if any, is left empty. A card already in that
// slot is only inserted. It returns the placed card, then the card taken
// out, if any.
func (d *Daemon) Place(p Placement) ([]SlotInfo, error) {
	if p.Card == "" || p.Slot == nil {
		return nil, fmt.Errorf("placing card: %w", control.Errorf(RuleBadSelector, "give the card and the slot to put it in"))
	}
	n := *p.Slot
	if n < 0 || n > 0xFFFF || d.port+n > 65535 {
		return nil, fmt.Errorf("placing card: %w", control.Errorf(RuleBadSlot, "slot %d out of range: vpcd port %d + slot must be a TCP port", n, d.port))
	}
	d.placeMu.Lock()
	defer d.placeMu.Unlock()
	card, occupant, err := d.placing(p.Card, n)
	if err != nil {
		return nil, err
	}
	// Both cards are held: an office visit of either ends first (slots only
	// change under placeMu, so they are still where they were found).
	held := []*slot{card}
	if occupant != nil {
		held = append(held, occupant)
	}
	defer hold(held...)()
	if at, _ := card.where(); at == n {
		d.toggle(card, true, "place")
		return []SlotInfo{d.info(card)}, nil
	}
	out := []*slot{card}
	wasIn := false
	if occupant != nil {
		_, side := occupant.where()
		wasIn = side.Inserted()
		d.detach(occupant)
		out = append(out, occupant)
	}
	if _, side := card.where(); side != nil {
		d.detach(card)
	}
	if wasIn {
		// The reader must see the slot empty before the next card arrives.
		time.Sleep(d.cfg.RemovalTime)
	}
	d.mu.Lock()
	card.mu.Lock()
	card.n, card.side = n, d.newSide(card.card, n)
	card.mu.Unlock()
	if d.runCtx != nil && !d.closed {
		d.start(card)
	}
	d.mu.Unlock()
	d.log.Info("card placed", "card", p.Card, "slot", n, "reader", ReaderName(n))
	infos := make([]SlotInfo, len(out))
	for i, s := range out {
		infos[i] = d.info(s)
	}
	return infos, nil
}

// placing finds the card to place and the card now in slot n, if any.
func (d *Daemon) placing(id string, n int) (card, occupant *slot, err error) {
	d.mu.Lock()
	for _, s := range d.slots {
		at, _ := s.where()
		if s.card.ID == id {
			card = s
		} else if at == n {
			occupant = s
		}
	}
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, nil, fmt.Errorf("placing card: the simulator is stopping")
	}
	if card == nil {
		return nil, nil, fmt.Errorf("placing card: %w", control.Errorf(RuleUnknownCard, "no card %q (sim.list shows the cards)", id))
	}
	return card, occupant, nil
}

// detach takes a card out of its slot and stops its card side, which
// closes its connection to vpcd.
func (d *Daemon) detach(s *slot) {
	s.mu.Lock()
	n, side, stop := s.n, s.side, s.stop
	s.n, s.side, s.stop = -1, nil, nil
	s.mu.Unlock()
	if side == nil {
		return
	}
	d.log.Info("taking card out of its slot", "card", s.card.ID, "slot", n, "reader", ReaderName(n), "by", "place")
	side.Remove()
	if stop != nil {
		stop()
	}
}
