package vpcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrProtocol marks a violation of the vpcd framing or message rules by the
// peer (docs/vpcd-pcscd.md §2, §3.1, §5.3).
var ErrProtocol = errors.New("vpcd protocol error")

var (
	// errFaultClose ends a connection on a fault hook's Close action.
	errFaultClose = errors.New("connection closed by fault injection")
	// errPeerClosed is a clean EOF between frames: pcscd stopped (§3.3).
	errPeerClosed = errors.New("vpcd closed the connection")
	// errMissedRemoval ends a connection of a card put back after TakeOut
	// on which an APDU came before any POWER_ON (see TakeOut).
	errMissedRemoval = errors.New("the reader sent an APDU to the re-inserted card before powering it up: it missed the removal")
)

// swNoPreciseDiagnosis (6F00) answers an APDU whose response cannot be sent:
// an error status instead of a truncated or empty frame (§2, §10.4).
var swNoPreciseDiagnosis = []byte{0x6F, 0x00}

// CardSide connects a Card to pcscd's vpcd driver (normal mode: the card
// dials, docs/vpcd-pcscd.md §1.1) and serves it until its context ends,
// reconnecting with capped exponential back-off whenever vpcd is absent,
// restarts or the connection breaks (§6.3, §10.1). Closing the connection is
// card removal and connecting is insertion (§3.4); Remove and Insert do that
// on command. All methods are safe for concurrent use.
type CardSide struct {
	card   Card
	opts   options
	faults atomic.Pointer[Faults]
	wake   chan struct{}
	// awaitPower, set by TakeOut, makes a new connection refuse APDUs
	// until the reader powers the card up; out is how long TakeOut keeps
	// the card out, doubled after each missed removal.
	awaitPower atomic.Bool
	out        atomic.Int64
	powered    chan struct{} // closed at the first POWER_ON after TakeOut; under mu

	mu       sync.Mutex
	inserted bool
	conn     net.Conn           // current connection, nil when disconnected
	cancel   context.CancelFunc // ends the current attempt or connection
}

// NewCardSide returns a card side for card, inserted but not yet running.
// It dials DefaultAddr unless WithAddr or WithSlot says otherwise.
func NewCardSide(card Card, opts ...Option) *CardSide {
	s := &CardSide{
		card:     card,
		opts:     buildOptions(DefaultAddr, opts),
		wake:     make(chan struct{}, 1),
		inserted: true,
	}
	s.faults.Store(&s.opts.faults)
	return s
}

// Addr returns the address the card side dials.
func (s *CardSide) Addr() string { return s.opts.addr }

// SetFaults replaces the fault-injection hook; it applies from the next frame
// (InsertDelay from the next connection attempt).
func (s *CardSide) SetFaults(f Faults) { s.faults.Store(&f) }

// Insert inserts the card: Run connects it (again). It is a no-op while
// the card is already inserted.
func (s *CardSide) Insert() {
	s.mu.Lock()
	s.inserted = true
	s.mu.Unlock()
	s.signal()
}

// Remove removes the card: the connection is closed at once (vpcd sees EOF,
// pcscd reports removal within a poll, §3.4) and Run stays disconnected
// until Insert.
func (s *CardSide) Remove() {
	s.mu.Lock()
	s.inserted = false
	if s.cancel != nil {
		s.cancel()
	}
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
	s.mu.Unlock()
	s.signal()
}

// Inserted reports whether the card is inserted (it may still be waiting
// for vpcd).
func (s *CardSide) Inserted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inserted
}

// Connected reports whether the card currently has a connection to vpcd.
func (s *CardSide) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

func (s *CardSide) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run serves the card until ctx ends and then returns ctx.Err(). Protocol
// errors and lost connections are logged and followed by a reconnect; they
// never end Run. Run must not be called twice at once.
func (s *CardSide) Run(ctx context.Context) error {
	log := s.opts.logger.With("vpcd", s.opts.addr)
	backoff := s.opts.minBackoff
	for {
		if err := s.waitInserted(ctx); err != nil {
			return err
		}
		actx, cancel, ok := s.begin(ctx)
		if !ok {
			continue
		}
		conn, err := s.connect(actx)
		if err != nil {
			// Read before cancel: an attempt aborted by Remove needs no back-off.
			aborted := actx.Err() != nil
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !aborted {
				log.Debug("vpcd not reachable, retrying", "err", err, "backoff", backoff)
				if err := s.sleep(ctx, backoff); err != nil {
					return err
				}
				backoff = min(backoff*2, s.opts.maxBackoff)
			}
			continue
		}
		backoff = s.opts.minBackoff
		if !s.attach(conn) {
			_ = conn.Close()
			cancel()
			continue
		}
		log.Info("card connected to vpcd")
		err = s.serve(actx, conn, log)
		s.detach()
		cancel()
		// A removed card loses power, and with it all volatile state.
		s.card.PowerOff()
		if err := s.afterConnection(ctx, err, log); err != nil {
			return err
		}
	}
}

// afterConnection logs why a connection ended (its serve error) and waits
// as its cause asks before the next one; an error ends Run.
func (s *CardSide) afterConnection(ctx context.Context, err error, log *slog.Logger) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case !s.Inserted():
		log.Info("card removed")
	case errors.Is(err, errMissedRemoval):
		out := 2 * time.Duration(s.out.Load())
		s.out.Store(int64(out))
		log.Warn("taking the card out again", "reason", err, "out", out)
		return wait(ctx, out)
	case errors.Is(err, errPeerClosed):
		log.Info("vpcd closed the connection, reconnecting")
	default:
		log.Warn("vpcd connection ended, reconnecting", "reason", err)
		// A peer that keeps sending garbage must not make us spin.
		return s.sleep(ctx, s.opts.minBackoff)
	}
	return nil
}

func (s *CardSide) waitInserted(ctx context.Context) error {
	for {
		if s.Inserted() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.wake:
		}
	}
}

// sleep waits d, returning early (nil) on Insert/Remove and with ctx.Err()
// when ctx ends.
func (s *CardSide) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.wake:
		return nil
	case <-t.C:
		return nil
	}
}

// begin starts a connection attempt that Remove can cancel.
func (s *CardSide) begin(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inserted {
		return nil, nil, false
	}
	actx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	return actx, cancel, true
}

func (s *CardSide) attach(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inserted {
		return false
	}
	s.conn = conn
	return true
}

func (s *CardSide) detach() {
	s.mu.Lock()
	s.conn = nil
	s.cancel = nil
	s.mu.Unlock()
}

func (s *CardSide) connect(ctx context.Context) (net.Conn, error) {
	if d := s.faults.Load().InsertDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	var d net.Dialer
	// vpcd listens on IPv4 only (§1.1), so "localhost" must not become ::1.
	conn, err := d.DialContext(ctx, "tcp4", s.opts.addr)
	if err != nil {
		return nil, fmt.Errorf("dialing vpcd: %w", err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true) // Go's default; stated because §5.4 depends on it
	}
	return conn, nil
}

// serve runs the request/response loop of one connection (§2, §3.1). It
// returns nil when ctx ends (Remove, shutdown) and the reason otherwise.
func (s *CardSide) serve(ctx context.Context, conn net.Conn, log *slog.Logger) error {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()

	qa := newQuickAck(conn)
	fr := &frameReader{conn: conn, timeout: s.opts.timeout}
	var fw frameWriter
	rbuf := make([]byte, 0, 512)
	atrWarned := false
	powered := !s.awaitPower.Load()
	debug := log.Enabled(ctx, slog.LevelDebug)
	for {
		qa.arm()
		cmd, err := fr.next(rbuf)
		if err != nil {
			return readError(ctx, err)
		}
		rbuf = cmd[:0]
		if debug {
			log.Debug("frame received", "kind", frameKind(cmd), "data", frameSummary(cmd))
		}

		switch {
		case len(cmd) > 1 && !powered:
			return errMissedRemoval
		case len(cmd) == 1 && cmd[0] == CtrlPowerOn && !powered:
			powered = true
			s.awaitPower.Store(false)
			s.markPowered()
		}
		resp, err := s.handle(cmd, log, &atrWarned)
		if err != nil {
			return err
		}
		if f := s.faults.Load(); f.Reply != nil {
			resp, err = s.applyFault(ctx, conn, f.Reply(cmd, resp), resp, log)
			if err != nil || ctx.Err() != nil {
				return err
			}
		}
		if resp == nil {
			continue
		}
		if err := fw.write(conn, resp); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("replying to %s: %w", frameKind(cmd), err)
		}
	}
}

// readError is what serve returns when reading a frame failed: nil when
// ctx ended (Remove, shutdown), errPeerClosed at EOF.
func readError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return nil
	case errors.Is(err, io.EOF):
		return errPeerClosed
	case errors.Is(err, ErrEmptyFrame):
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return err
}

// handle passes one frame to the card and returns the reply to send, nil
// when none is due (§3.1, §10.3, §10.4).
func (s *CardSide) handle(cmd []byte, log *slog.Logger, atrWarned *bool) ([]byte, error) {
	if len(cmd) > 1 {
		// The read buffer is reused; the card gets a command it may keep.
		resp := s.card.Transmit(bytes.Clone(cmd))
		if len(resp) < 2 || len(resp) > MaxPayload {
			log.Error("refusing card response, answering 6F00", "len", len(resp),
				"err", fmt.Errorf("a response needs 2..%d bytes: %w", MaxPayload, ErrFrameTooLarge))
			return swNoPreciseDiagnosis, nil
		}
		return resp, nil
	}
	switch cmd[0] {
	case CtrlPowerOff:
		s.card.PowerOff()
	case CtrlPowerOn:
		s.card.PowerOn()
	case CtrlReset:
		s.card.Reset()
	case CtrlGetATR:
		atr := s.card.ATR()
		switch {
		case len(atr) == 0:
			// An empty reply hangs vpcd and means "no card" (§4): leave instead.
			return nil, fmt.Errorf("card has an empty ATR: %w", ErrEmptyFrame)
		case len(atr) > MaxATR && !*atrWarned:
			*atrWarned = true
			log.Warn("ATR longer than pcscd's 33 bytes; the card will be mute", "len", len(atr))
		}
		return atr, nil
	default:
		// No reply is ever due to a control code but GET_ATR. vpcd would then
		// wait for one forever with the slot locked (§2, §5.1), so leave: the
		// driver sees a removal and the card comes back on reconnect.
		return nil, fmt.Errorf("%w: unknown control code %02X", ErrProtocol, cmd[0])
	}
	return nil, nil
}

// applyFault carries out a FaultFunc's Reply and returns what is left to
// send as a normal frame.
func (s *CardSide) applyFault(ctx context.Context, conn net.Conn, r Reply, resp []byte, log *slog.Logger) ([]byte, error) {
	if r.Delay > 0 {
		t := time.NewTimer(r.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil
		case <-t.C:
		}
	}
	switch r.Action {
	case Pass:
		return resp, nil
	case Replace:
		if len(r.Payload) == 0 {
			return nil, fmt.Errorf("fault hook replaced a reply with nothing: %w", ErrEmptyFrame)
		}
		return r.Payload, nil
	case Silent:
		log.Debug("fault injection: reply withheld")
		return nil, nil
	case Raw, Close:
		if len(r.Payload) > 0 {
			if _, err := conn.Write(r.Payload); err != nil {
				return nil, fmt.Errorf("writing raw fault bytes: %w", err)
			}
		}
		if r.Action == Close {
			return nil, errFaultClose
		}
		return nil, nil
	}
	return nil, fmt.Errorf("unknown fault action %d", r.Action)
}

// frameSummary renders a received frame for debug logs without its data
// field unless it is a SELECT: VERIFY, CHANGE REFERENCE DATA and CHANGE KEY
// carry PINs, and other commands may carry personal data.
func frameSummary(cmd []byte) string {
	if len(cmd) <= 5 || cmd[1] == 0xA4 {
		return fmt.Sprintf("% X", cmd)
	}
	return fmt.Sprintf("% X <%d bytes masked>", cmd[:5], len(cmd)-5)
}
