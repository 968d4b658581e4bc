package vpcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// Reader-side errors. They are wrapped with what was being done; test them
// with errors.Is.
var (
	// ErrNoCard: no card is connected (call WaitCard).
	ErrNoCard = errors.New("vpcd: no card connected")
	// ErrCardRemoved: the card closed its connection or vanished mid-frame
	// (docs/vpcd-pcscd.md §3.4, §5.2). The connection is dropped; WaitCard
	// accepts the next insertion.
	ErrCardRemoved = errors.New("vpcd: card removed")
	// ErrTimeout: the card did not answer within the Reader's timeout. The
	// stream can no longer be trusted, so the card is dropped as well.
	ErrTimeout = errors.New("vpcd: card did not answer in time")
	// ErrClosed: the Reader has been closed.
	ErrClosed = errors.New("vpcd: reader closed")
)

// Reader is the driver's side of the protocol, a stand-in for pcscd + vpcd
// so that suites can run a card over the real wire format without pcscd. It
// listens like vpcd in server mode (§1.1), but on loopback only, and holds
// at most one card connection at a time; further cards wait in the listen
// queue until the current one leaves (§1.1, "one card per port").
//
// Unlike vpcd it never passes truncated or empty frames up as success
// (§5.2, §5.3): every exchange either returns a complete reply or an error
// matching ErrCardRemoved, ErrTimeout, ErrProtocol, ErrNoCard or ErrClosed.
//
// Exchanges are serialised like pcscd's per-slot mutex (§5.1); all methods
// are safe for concurrent use, and Close interrupts a blocked exchange.
type Reader struct {
	ln   net.Listener
	opts options
	log  *slog.Logger

	xmu  sync.Mutex // serialises exchanges and WaitCard
	rbuf []byte
	fw   frameWriter

	mu     sync.Mutex // guards conn, qa and closed
	conn   net.Conn
	qa     quickAck
	closed bool
}

// Listen opens a Reader on addr; "" means "127.0.0.1:0", a free loopback
// port. Pass the address on to the card side (Addr, WithAddr). Options:
// WithTimeout, WithLogger.
func Listen(addr string, opts ...Option) (*Reader, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	o := buildOptions(addr, opts)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for a vpcd card: %w", err)
	}
	return &Reader{ln: ln, opts: o, log: o.logger.With("reader", ln.Addr().String()), rbuf: make([]byte, 0, 512)}, nil
}

// Addr returns the address the Reader listens on, for WithAddr.
func (r *Reader) Addr() string { return r.ln.Addr().String() }

// Present reports whether a card is connected.
func (r *Reader) Present() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conn != nil
}

// WaitCard waits until a card connects, then does what pcscd does on
// insertion (§3.3): a GET_ATR presence check, then POWER_ON and GET_ATR. It
// returns at once if a card is already connected; other calls wait while it
// waits, as they would on a locked pcscd slot.
func (r *Reader) WaitCard(ctx context.Context) error {
	r.xmu.Lock()
	defer r.xmu.Unlock()
	r.mu.Lock()
	closed, present := r.closed, r.conn != nil
	r.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case present:
		return nil
	}

	conn, err := r.accept(ctx)
	if err != nil {
		return err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = conn.Close()
		return ErrClosed
	}
	r.conn, r.qa = conn, newQuickAck(conn)
	r.mu.Unlock()
	r.log.Info("card connected", "remote", conn.RemoteAddr().String())

	if _, err := r.exchange(ctrlFrame(CtrlGetATR), true); err != nil {
		return fmt.Errorf("checking card presence: %w", err)
	}
	if _, err := r.exchange(ctrlFrame(CtrlPowerOn), false); err != nil {
		return fmt.Errorf("powering up the card: %w", err)
	}
	if _, err := r.exchange(ctrlFrame(CtrlGetATR), true); err != nil {
		return fmt.Errorf("reading the ATR after power-up: %w", err)
	}
	return nil
}

// accept waits for the card's connection, until ctx ends or the reader is
// closed.
func (r *Reader) accept(ctx context.Context) (net.Conn, error) {
	if tl, ok := r.ln.(*net.TCPListener); ok {
		_ = tl.SetDeadline(time.Time{})
		interrupted := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			_ = tl.SetDeadline(time.Unix(1, 0))
			close(interrupted)
		})
		defer func() {
			if !stop() {
				<-interrupted
				_ = tl.SetDeadline(time.Time{})
			}
		}()
	}
	conn, err := r.ln.Accept()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for a card: %w", ctx.Err())
		}
		if r.isClosed() {
			return nil, ErrClosed
		}
		return nil, fmt.Errorf("waiting for a card: %w", err)
	}
	return conn, nil
}

// ctrlFrames are the control payloads, shared so sending one allocates
// nothing.
var ctrlFrames = [...][]byte{
	CtrlPowerOff: {CtrlPowerOff},
	CtrlPowerOn:  {CtrlPowerOn},
	CtrlReset:    {CtrlReset},
	CtrlGetATR:   {CtrlGetATR},
}

func ctrlFrame(code byte) []byte { return ctrlFrames[code] }

// Transmit sends one command APDU and returns the card's R-APDU (data +
// SW, at least 2 bytes). Commands must be 2..65535 bytes: a 1-byte command
// would be read as a control code (§2), and vpcd cannot frame more (§2, §9).
func (r *Reader) Transmit(command []byte) ([]byte, error) {
	if len(command) < 2 || len(command) > MaxPayload {
		return nil, fmt.Errorf("transmitting %d-byte APDU: a command needs 2..%d bytes", len(command), MaxPayload)
	}
	r.xmu.Lock()
	defer r.xmu.Unlock()
	resp, err := r.exchange(command, true)
	if err != nil {
		return nil, fmt.Errorf("transmitting APDU: %w", err)
	}
	if len(resp) < 2 {
		return nil, fmt.Errorf("transmitting APDU: %w: %d-byte response has no status word", ErrProtocol, len(resp))
	}
	return resp, nil
}

// ATR sends GET_ATR, pcscd's presence poll (§3.2), and returns the reply
// without changing the card's state.
func (r *Reader) ATR() ([]byte, error) {
	r.xmu.Lock()
	defer r.xmu.Unlock()
	atr, err := r.exchange(ctrlFrame(CtrlGetATR), true)
	if err != nil {
		return nil, fmt.Errorf("reading ATR: %w", err)
	}
	return atr, nil
}

// Reset warm-resets the card like pcscd: RESET (02), then GET_ATR (04), §3.2.
func (r *Reader) Reset() error {
	return r.power(CtrlReset, "resetting the card")
}

// PowerOn cold-resets the card like pcscd: POWER_ON (01), then GET_ATR
// (04), §3.2.
func (r *Reader) PowerOn() error {
	return r.power(CtrlPowerOn, "powering up the card")
}

// PowerOff sends POWER_OFF (00); no reply is due (§3.1).
func (r *Reader) PowerOff() error {
	r.xmu.Lock()
	defer r.xmu.Unlock()
	if _, err := r.exchange(ctrlFrame(CtrlPowerOff), false); err != nil {
		return fmt.Errorf("powering down the card: %w", err)
	}
	return nil
}

func (r *Reader) power(code byte, what string) error {
	r.xmu.Lock()
	defer r.xmu.Unlock()
	if _, err := r.exchange(ctrlFrame(code), false); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := r.exchange(ctrlFrame(CtrlGetATR), true); err != nil {
		return fmt.Errorf("%s: reading ATR: %w", what, err)
	}
	return nil
}

// DropCard closes the current card connection, if any, as vpcd does when
// an exchange fails; the card side sees a removal.
func (r *Reader) DropCard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropLocked()
}

// Close closes the listener and any card connection; blocked calls return
// ErrClosed or ErrCardRemoved.
func (r *Reader) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.dropLocked()
	r.mu.Unlock()
	if err := r.ln.Close(); err != nil {
		return fmt.Errorf("closing vpcd reader: %w", err)
	}
	return nil
}

func (r *Reader) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func (r *Reader) dropLocked() {
	if r.conn != nil {
		_ = r.conn.Close()
		r.conn = nil
	}
}

// drop forgets conn if it is still the current connection.
func (r *Reader) drop(conn net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conn == conn {
		r.dropLocked()
	}
}

// exchange sends payload and, if wantReply, reads one reply frame and
// returns a copy of it. Any failure but a clean reply drops the card: the
// stream cannot be trusted afterwards. The caller holds xmu.
func (r *Reader) exchange(payload []byte, wantReply bool) ([]byte, error) {
	r.mu.Lock()
	conn, qa, closed := r.conn, r.qa, r.closed
	r.mu.Unlock()
	switch {
	case closed:
		return nil, ErrClosed
	case conn == nil:
		return nil, ErrNoCard
	}

	var deadline time.Time
	if r.opts.timeout > 0 {
		deadline = time.Now().Add(r.opts.timeout)
	}
	_ = conn.SetDeadline(deadline)
	if err := r.fw.write(conn, payload); err != nil {
		r.drop(conn)
		return nil, r.classify(fmt.Errorf("sending %s: %w", frameKind(payload), err))
	}
	if !wantReply {
		return nil, nil
	}
	qa.arm()
	reply, err := ReadFrame(conn, r.rbuf)
	if err != nil {
		r.drop(conn)
		if errors.Is(err, ErrEmptyFrame) {
			err = fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		return nil, r.classify(fmt.Errorf("awaiting reply to %s: %w", frameKind(payload), err))
	}
	r.rbuf = reply[:0]
	return append([]byte(nil), reply...), nil
}

// classify adds the typed reader error that explains err.
func (r *Reader) classify(err error) error {
	var ne net.Error
	switch {
	case r.isClosed():
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		r.log.Warn("card stalled; dropping it", "err", err)
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case errors.Is(err, ErrProtocol):
		r.log.Warn("card broke the protocol; dropping it", "err", err)
		return err
	}
	// EOF, a short frame, a reset: the card left (§3.4, §5.2).
	r.log.Info("card removed", "err", err)
	return fmt.Errorf("%w: %w", ErrCardRemoved, err)
}
