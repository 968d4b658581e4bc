package framework

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
)

func init() {
	target.RegisterSimulator(openSimulated)
	targetSlot.Store(-1)
}

// targetSlot is the vpcd slot of this process's open pcsc target, -1 for
// none: a world's daemon takes the other slot (Debian's vpcd has two).
var targetSlot atomic.Int32

// SimCard is a simulated target's card: what was issued on it and, on vpcd
// and pcsc, the vpcd card side serving it.
type SimCard struct {
	Issued *simcard.Issued
	// Side serves the card over vpcd (vpcd and pcsc targets): removal,
	// insertion and fault injection; nil on sim.
	Side *vpcd.CardSide
}

// Sim returns the simulated card behind t, nil for a physical card. Specs
// that use it are labelled SimOnly.
func Sim(t *target.Target) *SimCard {
	s, _ := t.Sim().(*SimCard)
	return s
}

// Snapshot is a simulated card's persistent state at one moment (the
// card's public snapshot API, simcard/card).
type Snapshot = card.Snapshot

// Snapshot records the card's state (PIN counters, files, keys).
func (s *SimCard) Snapshot() (Snapshot, error) { return s.Issued.Snapshot() }

// Restore puts the card back in the state of snap.
func (s *SimCard) Restore(snap Snapshot) error { return s.Issued.Restore(snap) }

// openSimulated issues profile.Default() on a virtual clock at its issue
// date and serves it as cfg.Kind asks:
//
//   - sim: in process (harness.InProcess);
//   - vpcd: over the real vpcd wire format to the Go reader side of package
//     vpcd (no pcscd; docs/vpcd-pcscd.md §2, §3);
//   - pcsc: on vpcd slot cfg.Slot of a pcscd (started with pcscdenv if none
//     serves the vpcd readers), connected shared through package pcsc.
func openSimulated(ctx context.Context, cfg target.Config) (_ *target.Simulated, err error) {
	p := profile.Default()
	is, err := simcard.NewIssuer(clock.NewVirtual(p.IssueDate.Time), nil)
	if err != nil {
		return nil, fmt.Errorf("creating issuer: %w", err)
	}
	issued, err := is.Issue(p)
	if err != nil {
		return nil, err
	}
	s := &target.Simulated{
		PINs: target.PINs{Auth: jpkiclient.PIN(p.PINs.Auth), Sign: jpkiclient.PIN(p.PINs.Sign), CardInfo: jpkiclient.PIN(p.PINs.CardInfo)},
		Sim:  &SimCard{Issued: issued},
	}
	var closers closers
	s.Close = closers.close
	defer func() {
		if err != nil {
			_ = closers.close()
		}
	}()
	switch cfg.Kind {
	case target.Sim:
		t := harness.NewInProcess(issued.Card)
		closers.add(t.Close)
		s.Transport, s.Desc = t, "sim: simulated card in process"
	case target.VPCD:
		r, err := vpcd.Listen("", vpcd.WithLogger(vpcdslot.QuietLogger()))
		if err != nil {
			return nil, err
		}
		closers.add(r.Close)
		s.Sim.(*SimCard).Side = serve(&closers, issued.Card, vpcd.WithAddr(r.Addr()))
		if err := r.WaitCard(ctx); err != nil {
			return nil, fmt.Errorf("waiting for the simulated card on %s: %w", r.Addr(), err)
		}
		s.Transport, s.Desc = r, "vpcd: simulated card over the vpcd wire format at "+r.Addr()
	case target.PCSC:
		if err := servePCSC(ctx, cfg.Slot, s, &closers); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: no simulated card for target %q", target.ErrConfig, cfg.Kind)
	}
	return s, nil
}

// servePCSC serves s's card on vpcd slot of a pcscd (started with
// pcscdenv if none serves the vpcd readers) and connects to it shared.
func servePCSC(ctx context.Context, slot int, s *target.Simulated, cl *closers) error {
	d, err := pcscdenv.StartPCSCD(ctx)
	if err != nil {
		return err
	}
	cl.add(d.Stop)
	reader := pcscdenv.ReaderName(slot)
	targetSlot.Store(int32(slot))
	cl.add(func() error { targetSlot.Store(-1); return nil })
	sc := s.Sim.(*SimCard)
	sc.Side = serve(cl, sc.Issued.Card, vpcd.WithSlot(slot))
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		return fmt.Errorf("waiting for the simulated card in %q: %w", reader, err)
	}
	c, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		return err
	}
	cl.add(c.Close)
	s.Transport, s.Desc = c, fmt.Sprintf("pcsc: simulated card on vpcd slot %d, reader %q", slot, reader)
	return nil
}

// serve runs a vpcd card side for c until the closers run.
func serve(cl *closers, c vpcd.Card, opts ...vpcd.Option) *vpcd.CardSide {
	side := vpcd.NewCardSide(c, append([]vpcd.Option{vpcd.WithLogger(vpcdslot.QuietLogger())}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = side.Run(ctx)
	}()
	// Closers run in reverse: the transport closes before the card leaves.
	cl.add(func() error {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("stopping the vpcd card side: still running after 10s")
		}
		return nil
	})
	return side
}

// closers release resources in reverse order of acquisition.
type closers []func() error

func (c *closers) add(f func() error) { *c = append(*c, f) }

func (c *closers) close() error {
	var first error
	for i := len(*c) - 1; i >= 0; i-- {
		if err := (*c)[i](); err != nil && first == nil {
			first = err
		}
	}
	*c = nil
	return first
}
