// Package harness connects test suites to a card. Every suite talks to a
// Transport; the in-process simulated card, the vpcd link and PC/SC readers
// are implementations of it, so the same suite runs unchanged on each.
//
// The protocol helpers live in subpackages: apdu (command and response
// APDUs, typed status words), jpki (a JPKI-AP client), trace (PIN-masking
// APDU traces) and matchers (Gomega matchers).
package harness

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/trace"
)

// Transport carries command APDUs to a card and its responses back.
type Transport interface {
	Transmit(command []byte) (response []byte, err error) // response = data + SW1 SW2
	ATR() ([]byte, error)
	Reset() error // warm reset: clears the card's volatile state (selected applet, verified PINs)
	Close() error
}

// ErrClosed is returned by a Transport used after Close.
var ErrClosed = errors.New("transport closed")

// Card is what InProcess drives: a card model answering APDUs in the same
// goroutine. The simulated card satisfies it structurally; harness does not
// import it.
//
// Transmit receives one complete command APDU and returns the response APDU
// (data + SW1 SW2). It must not keep cmd after returning; InProcess copies
// the slice it returns, so the card may reuse its own buffer.
type Card interface {
	ATR() []byte
	Transmit(cmd []byte) []byte
	Reset()    // warm reset, ISO/IEC 7816-3 clause 6.2.3
	PowerOn()  // cold reset: contacts activated, ISO/IEC 7816-3 clause 6.2.2
	PowerOff() // deactivation, ISO/IEC 7816-3 clause 6.4
}

// InProcess is a Transport over a Card in the same process. It serialises
// calls, as a PC/SC reader would, and copies every buffer that crosses the
// boundary so that neither side can alias the other's memory.
//
// Transmit allocates only the returned response: the command is copied into
// a buffer InProcess keeps for the next call.
type InProcess struct {
	mu     sync.Mutex
	card   Card
	cmd    []byte
	closed bool
}

// NewInProcess powers card on and returns a Transport to it.
func NewInProcess(card Card) *InProcess {
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
// reset and close in rec (PIN data masked, see package trace).
func Traced(t Transport, rec *trace.Recorder) Transport {
	return &traced{Transport: t, rec: rec}
}

type traced struct {
	Transport
	rec *trace.Recorder
}

func (t *traced) Transmit(command []byte) ([]byte, error) {
	start := time.Now()
	resp, err := t.Transport.Transmit(command)
	t.rec.Record(start, time.Since(start), command, resp, err)
	return resp, err
}

func (t *traced) Reset() error {
	err := t.Transport.Reset()
	if err != nil {
		t.rec.Note("warm reset failed: %v", err)
	} else {
		t.rec.Note("warm reset")
	}
	return err
}

func (t *traced) Close() error {
	t.rec.Note("close")
	return t.Transport.Close()
}
