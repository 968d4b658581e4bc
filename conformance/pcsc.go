package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// ErrTimeout is returned when a PC/SC call does not return within its
// deadline: the reader hangs (docs/conformance-checklist.md, R12). The call itself
// keeps running in the background; pcsc-lite serialises later calls behind it.
var ErrTimeout = errors.New("PC/SC call did not return in time")

// hangs counts the PC/SC calls of this process that missed their deadline;
// R12 reports it.
var hangs atomic.Int64

// within runs f and waits at most d for it.
func within[T any](d time.Duration, what string, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		hangs.Add(1)
		var zero T
		return zero, fmt.Errorf("%s: %w after %v", what, ErrTimeout, d)
	}
}

// session is one PC/SC context with (at most) one card handle on the reader
// under test. Every call is bounded by the APDU timeout.
type session struct {
	reader  string
	timeout time.Duration
	ctx     *pcsc.Context
	card    pcscCard
	// lies are the PC/SC stack faults the session shows (faults.Stack):
	// only the fault matrix's "lying-pcsc-stack" sets them.
	lies faults.Stack
}

func openSession(reader string, timeout time.Duration) (*session, error) {
	ctx, err := within(timeout, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return nil, err
	}
	return &session{reader: reader, timeout: timeout, ctx: ctx}, nil
}

// connect connects in mode, offering T=0 and T=1.
func (s *session) connect(mode pcsc.Mode) error {
	if s.lies.NoSharing && mode == pcsc.Exclusive {
		mode = pcsc.Shared
	}
	c, err := within(s.timeout, fmt.Sprintf("connecting to %q", s.reader), func() (*pcsc.Card, error) {
		return s.ctx.Connect(s.reader, mode)
	})
	if err != nil {
		return err
	}
	// Connect also takes an index or a substring: the reader under test
	// gone, it could pick another.
	if c.Reader() != s.reader {
		_ = c.Close()
		return fmt.Errorf("connecting to %q: %w (found %q)", s.reader, pcsc.ErrReaderNotFound, c.Reader())
	}
	s.card = c
	if !s.lies.IsZero() {
		s.card = &lyingCard{Card: c, lies: s.lies}
	}
	return nil
}

// transmit sends cmd and returns the raw response and its round trip.
func (s *session) transmit(cmd []byte) ([]byte, time.Duration, error) {
	if s.card == nil {
		return nil, 0, errors.New("transmitting: not connected")
	}
	// The call may outlive its deadline: it keeps its own copy of the
	// handle, since disconnect clears s.card meanwhile.
	c := s.card
	start := time.Now()
	resp, err := within(s.timeout, "transmitting APDU", func() ([]byte, error) {
		r, err := c.TransmitBuffer(cmd, pcsc.MaxResponse)
		return r.Data, err
	})
	d := time.Since(start)
	traceExchange(cmd, resp, d, err)
	return resp, d, err
}

// status returns SCardStatus.
func (s *session) status() (*pcsc.CardStatus, error) {
	return within(s.timeout, "reading card status", s.card.Status)
}

// reconnect reconnects in the mode the card was connected with.
func (s *session) reconnect(disp pcsc.Disposition) error {
	c := s.card
	_, err := within(s.timeout, "reconnecting", func() (struct{}, error) {
		return struct{}{}, c.Reconnect(disp)
	})
	return err
}

func (s *session) disconnect(disp pcsc.Disposition) error {
	if s.card == nil {
		return nil
	}
	c := s.card
	s.card = nil
	_, err := within(s.timeout, "disconnecting", func() (struct{}, error) { return struct{}{}, c.Disconnect(disp) })
	return err
}

// close disconnects (leaving the card as it is) and releases the context.
func (s *session) close() error {
	derr := s.disconnect(pcsc.LeaveCard)
	_, rerr := within(s.timeout, "releasing PC/SC context", func() (struct{}, error) { return struct{}{}, s.ctx.Close() })
	return errors.Join(derr, rerr)
}

// waitState waits until the reader's state has all bits of want (e.g.
// StatePresent) and returns the time it took and the ATR pcscd reports.
func waitState(ctx *pcsc.Context, reader string, want pcsc.StateFlag, limit time.Duration) (time.Duration, []byte, error) {
	start := time.Now()
	rs := []pcsc.ReaderState{{Reader: reader, CurrentState: pcsc.StateUnaware}}
	for {
		left := limit - time.Since(start)
		if left <= 0 {
			return time.Since(start), nil, fmt.Errorf("waiting for reader state %v: %w after %v", want, ErrTimeout, limit)
		}
		// GetStatusChange is bounded by its own timeout; the extra second
		// guards against a pcscd that ignores it.
		_, err := within(left+time.Second, "waiting for a reader event", func() (struct{}, error) {
			return struct{}{}, ctx.GetStatusChange(rs, left)
		})
		switch {
		case errors.Is(err, pcsc.ErrTimeout):
			continue
		case err != nil:
			return time.Since(start), nil, fmt.Errorf("waiting for reader state: %w", err)
		}
		if rs[0].EventState&want == want {
			return time.Since(start), slices.Clone(rs[0].ATR), nil
		}
		rs[0].CurrentState = rs[0].EventState &^ pcsc.StateChanged
	}
}

// swOf returns the status word of a response, false if it has none.
func swOf(resp []byte) (uint16, bool) {
	if len(resp) < 2 {
		return 0, false
	}
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]), true
}

// pcscVersion returns libpcsclite's version.
func pcscVersion() string { return pcsc.Version() }

// WaitCard waits until reader reports a card (present) or none (!present).
func WaitCard(reader string, present bool, limit time.Duration) error {
	ctx, err := within(limit, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return err
	}
	defer func() { _ = ctx.Close() }()
	want := pcsc.StateEmpty
	if present {
		want = pcsc.StatePresent
	}
	_, _, err = waitState(ctx, reader, want, limit)
	return err
}
