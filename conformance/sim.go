package conformance

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// VirtualReader is the PC/SC name of vpcd's first slot (docs/vpcd-pcscd.md §6.2).
const VirtualReader = "Virtual PCD 00 00"

// The simulated card's PINs (profile.Default). They are test values of a
// fictional card, not secrets.
const (
	SimAuthPIN = "1234"
	SimSignPIN = "SIGN2026"
)

// Sim is the simulated My Number Card served to pcscd's vpcd driver on a
// slot, seen through a fault profile. It implements CardControl.
type Sim struct {
	cs      *vpcd.CardSide
	profile faults.Profile
	vanish  atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartSim issues a card from profile.Default (PINs SimAuthPIN, SimSignPIN) and
// connects it to vpcd's slot (0 → "Virtual PCD 00 00", port 35963, §1.2)
// through fault profile p. pcscd must be running with the vpcd driver.
func StartSim(slot int, p faults.Profile, log *slog.Logger) (*Sim, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.May, 1)), nil)
	if err != nil {
		return nil, fmt.Errorf("starting the card issuer: %w", err)
	}
	issued, err := is.Issue(profile.Default())
	if err != nil {
		return nil, fmt.Errorf("issuing the simulated card: %w", err)
	}
	s := &Sim{profile: p, done: make(chan struct{})}
	f := vpcd.Faults{Reply: s.reply, InsertDelay: p.InsertDelay}
	s.cs = vpcd.NewCardSide(p.Card(issued.Card), vpcd.WithSlot(slot), vpcd.WithFaults(f), vpcd.WithLogger(log),
		vpcd.WithBackoff(20*time.Millisecond, 500*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_ = s.cs.Run(ctx)
	}()
	return s, nil
}

// reply is the card side's fault hook: a vanish requested by the suite
// first, then the profile's own hook.
func (s *Sim) reply(cmd, resp []byte) vpcd.Reply {
	if len(cmd) >= 2 && s.vanish.CompareAndSwap(true, false) {
		return s.profile.Vanish(resp)
	}
	if f := s.profile.Reply(); f != nil {
		return f(cmd, resp)
	}
	return vpcd.Reply{}
}

// Remove takes the card out of the virtual reader (after the profile's
// RemoveDelay: a reader that notices removals late).
func (s *Sim) Remove() {
	if d := s.profile.RemoveDelay; d > 0 {
		time.AfterFunc(d, s.cs.Remove)
		return
	}
	s.cs.Remove()
}

// Insert puts the card back.
func (s *Sim) Insert() { s.cs.Insert() }

// VanishOnNextAPDU makes the card close its connection instead of answering
// the next APDU (docs/vpcd-pcscd.md §5.2).
func (s *Sim) VanishOnNextAPDU() { s.vanish.Store(true) }

// Close disconnects the card and waits for the card side to stop. pcscd
// may report the card present for up to one more presence poll; Leave
// waits for that too.
func (s *Sim) Close() {
	s.cancel()
	<-s.done
}

// defaultDetectBudget is Config.DetectBudget's default: the most an
// insertion or removal may take to show in SCardGetStatusChange (R02).
const defaultDetectBudget = 1500 * time.Millisecond

// SlotClearWait bounds the wait for a card that left a vpcd slot to leave
// pcscd's view too: pcscd notices within one presence poll (about 0.44 s,
// docs/vpcd-pcscd.md §3.4), the virtual reader is held to the detection
// budget (1.5 s, R02), and twice that allows for a loaded machine. The
// wait itself ends on pcscd's reader event, not after a fixed time.
const SlotClearWait = 2 * defaultDetectBudget

// Leave takes the card out of reader for good (Close) and waits, at most
// SlotClearWait, until pcscd reports the reader empty, so that the next
// run finds the slot free (docs/conformance.md#back-to-back-runs).
func (s *Sim) Leave(reader string) error {
	s.Close()
	if err := WaitCard(reader, false, SlotClearWait); err != nil {
		return fmt.Errorf("the simulated card still shows in %q: %w", reader, err)
	}
	return nil
}
