// Package harness connects test suites to a card. Every suite talks to a
// Transport; the in-process simulated card, the vpcd link and PC/SC readers
// are implementations of it, so the same suite runs unchanged on each.
//
// The protocol helpers live in subpackages: apduclient (command and
// response APDUs, typed status words), jpkiclient and cardinfoclient
// (clients of the card's applets, written from the card's documents and
// never from the simulator), trace (PIN-masking APDU traces) and matchers
// (Gomega matchers).
package harness

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/trace"
	"github.com/mynahil/mynahil/vpcd"
)

// Transport carries command APDUs to a card and its responses back: the
// whole contract, as go-tpm's transport is one Send. A response is the
// response data followed by SW1 SW2 (ISO/IEC 7816-4 clause 5.1).
//
// What not every way to a card can do is optional: a Transport may also
// implement Resetter (warm reset), ATRReader (the answer-to-reset) and
// io.Closer. Call them through Reset, ATR and Close, which say so with
// ErrNotSupported when the Transport cannot. A wrapper that embeds a
// Transport promotes Transmit only: it must forward the optional methods
// itself (as Traced does), or they are lost.
type Transport interface {
	Transmit(command []byte) (response []byte, err error)
}

// Resetter is a Transport that can warm-reset its card: the card's volatile
// state (selected applet, verified PINs) is cleared, ISO/IEC 7816-3 clause
// 6.2.3.
type Resetter interface {
	Reset() error
}

// ATRReader is a Transport that can give the card's answer-to-reset
// (ISO/IEC 7816-3 clause 8).
type ATRReader interface {
	ATR() ([]byte, error)
}

// ErrClosed is returned by a Transport used after Close.
var ErrClosed = errors.New("transport closed")

// ErrNotSupported is returned by Reset and ATR for a Transport that cannot
// do what was asked.
var ErrNotSupported = errors.New("not supported by this transport")

// Reset warm-resets the card behind t, or returns ErrNotSupported.
func Reset(t Transport) error {
	if r, ok := t.(Resetter); ok {
		return r.Reset()
	}
	return fmt.Errorf("resetting the card: %w", ErrNotSupported)
}

// ATR returns the answer-to-reset of the card behind t, or ErrNotSupported.
func ATR(t Transport) ([]byte, error) {
	if r, ok := t.(ATRReader); ok {
		return r.ATR()
	}
	return nil, fmt.Errorf("reading the ATR: %w", ErrNotSupported)
}

// Close closes t if it can be closed (io.Closer); a Transport without a
// Close has nothing to release.
func Close(t Transport) error {
	if c, ok := t.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// InProcess is a Transport over a card model in the same process: the one
// card-side interface, vpcd.Card, declared in package vpcd, the lowest
// package both sides use (the simulated card satisfies it structurally, and
// harness does not import the simulator). It serialises calls, as a PC/SC
// reader would, and copies every buffer that crosses the boundary so that
// neither side can alias the other's memory.
//
// Transmit allocates only the returned response: the command is copied into
// a buffer InProcess keeps for the next call.
type InProcess struct {
	mu     sync.Mutex
	card   vpcd.Card
	cmd    []byte
	closed bool
}

// NewInProcess powers card on and returns a Transport to it.
func NewInProcess(card vpcd.Card) *InProcess {
	card.PowerOn()
	return &InProcess{card: card, cmd: make([]byte, 0, 261)}
}

// Transmit sends one command APDU to the card.
func (t *InProcess) Transmit(command []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("transmitting APDU: %w", ErrClosed)
	}
	t.cmd = append(t.cmd[:0], command...)
	resp := t.card.Transmit(t.cmd)
	if len(resp) < 2 {
		return nil, fmt.Errorf("transmitting APDU: card answered %d bytes, want at least SW1 SW2", len(resp))
	}
	return append([]byte(nil), resp...), nil
}

// ATR returns a copy of the card's answer-to-reset.
func (t *InProcess) ATR() ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("reading ATR: %w", ErrClosed)
	}
	return append([]byte(nil), t.card.ATR()...), nil
}

// Reset warm-resets the card.
func (t *InProcess) Reset() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("resetting card: %w", ErrClosed)
	}
	t.card.Reset()
	return nil
}

// Close powers the card off. Later calls return ErrClosed; closing twice is
// not an error.
func (t *InProcess) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		t.card.PowerOff()
	}
	return nil
}

// Traced returns a Transport that forwards to t and records every exchange,
// reset and close in rec (PIN data masked, see package trace). It offers
// Reset, ATR and Close whatever t offers; those t lacks answer
// ErrNotSupported (Close: nothing to release).
func Traced(t Transport, rec *trace.Recorder) Transport {
	return &traced{inner: t, rec: rec}
}

type traced struct {
	inner Transport
	rec   *trace.Recorder
}

func (t *traced) Transmit(command []byte) ([]byte, error) {
	start := time.Now()
	resp, err := t.inner.Transmit(command)
	t.rec.Record(start, time.Since(start), command, resp, err)
	return resp, err
}

func (t *traced) ATR() ([]byte, error) { return ATR(t.inner) }

func (t *traced) Reset() error {
	err := Reset(t.inner)
	if err != nil {
		t.rec.Note("warm reset failed: %v", err)
	} else {
		t.rec.Note("warm reset")
	}
	return err
}

func (t *traced) Close() error {
	t.rec.Note("close")
	return Close(t.inner)
}
