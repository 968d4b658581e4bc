package pcsc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/ebfe/scard"

	"github.com/mynahil/mynahil/harness"
)

// maxCommand is the longest command pcsc-lite accepts
// (MAX_BUFFER_SIZE_EXTENDED, docs/vpcd-pcscd.md §9).
const maxCommand = 4 + 3 + 65536 + 3 + 2

// Card is a connection to a card through pcscd. It implements
// harness.Transport and is safe for concurrent use (calls are serialised).
type Card struct {
	mu     sync.Mutex
	h      *scard.Card
	reader string
	mode   Mode
	closed bool
	owned  *Context // released by Close when the Card came from Open
}

// Open connects to the card in the reader chosen by selector through a
// context of its own, which Close releases: the one-call way to a
// Transport.
func Open(selector string, mode Mode) (*Card, error) {
	c, err := Establish()
	if err != nil {
		return nil, err
	}
	card, err := c.Connect(selector, mode)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	card.owned = c
	return card, nil
}

var _ harness.Transport = (*Card)(nil)

// Reader returns the name of the reader the card is in.
func (c *Card) Reader() string { return c.reader }

// Mode returns the share mode the card was connected with.
func (c *Card) Mode() Mode { return c.mode }

// Protocol returns the active protocol, "T=0" or "T=1".
func (c *Card) Protocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch c.h.ActiveProtocol() {
	case scard.ProtocolT0:
		return "T=0"
	case scard.ProtocolT1:
		return "T=1"
	}
	return "none"
}

func (c *Card) lock(action string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", action, harness.ErrClosed)
	}
	return nil
}

// Transmit sends one command APDU with SCardTransmit and returns the
// response (data + SW1 SW2). A response shorter than a status word is an
// error: an empty "success" is what pcscd returns when a vpcd card vanished
// in the middle of the exchange (docs/vpcd-pcscd.md §5.2), so it wraps
// ErrCardRemoved.
func (c *Card) Transmit(command []byte) ([]byte, error) {
	// scard indexes command[0] and panics on an empty slice; shorter
	// malformed commands are left for pcsc-lite and the card to refuse.
	if len(command) == 0 || len(command) > maxCommand {
		return nil, fmt.Errorf("transmitting APDU: a command needs 1..%d bytes, got %d", maxCommand, len(command))
	}
	if err := c.lock("transmitting APDU"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	switch c.h.ActiveProtocol() {
	case scard.ProtocolT0, scard.ProtocolT1:
	default:
		// scard panics on any other protocol.
		return nil, fmt.Errorf("transmitting APDU: no active protocol (T=0/T=1) on %q", c.reader)
	}
	resp, err := c.h.Transmit(command)
	if err != nil {
		return nil, wrap("transmitting APDU", err)
	}
	switch len(resp) {
	case 0:
		return nil, fmt.Errorf("transmitting APDU: %w: empty response from %q", ErrCardRemoved, c.reader)
	case 1:
		return nil, fmt.Errorf("transmitting APDU: 1-byte response %02X from %q has no status word", resp[0], c.reader)
	}
	return resp, nil
}

// ATR returns the card's answer-to-reset as pcscd cached it at power-up
// (SCardStatus).
func (c *Card) ATR() ([]byte, error) {
	st, err := c.Status()
	if err != nil {
		return nil, fmt.Errorf("reading ATR: %w", err)
	}
	return st.Atr, nil
}

// Status returns SCardStatus: reader, state, protocol and ATR.
func (c *Card) Status() (*scard.CardStatus, error) {
	if err := c.lock("reading card status"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	st, err := c.h.Status()
	if err != nil {
		return nil, wrap("reading card status", err)
	}
	return st, nil
}

// Reset warm-resets the card: SCardReconnect with SCARD_RESET_CARD (ISO/IEC
// 7816-3 clause 6.2.3; vpcd sends RESET then GET_ATR, docs/vpcd-pcscd.md
// §3.3). Every application connected to the card sees ErrCardReset on its
// next call.
func (c *Card) Reset() error {
	return c.Reconnect(scard.ResetCard)
}

// Reconnect re-establishes the connection in the same mode, with the given
// disposition: scard.LeaveCard to acknowledge another application's reset
// (ErrCardReset), scard.ResetCard for a warm reset, scard.UnpowerCard for a
// cold one.
func (c *Card) Reconnect(d scard.Disposition) error {
	if err := c.lock("reconnecting"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if err := c.h.Reconnect(c.mode.scard(), scard.ProtocolAny, d); err != nil {
		return wrap(fmt.Sprintf("reconnecting to %q", c.reader), err)
	}
	return nil
}

// Begin starts a transaction (SCardBeginTransaction): until End, no other
// application's commands reach the card, so a VERIFY and the command that
// needs it cannot be split by another client in shared mode. It blocks while
// another application holds a transaction.
func (c *Card) Begin() error {
	if err := c.lock("beginning transaction"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return wrap("beginning transaction", c.h.BeginTransaction())
}

// End ends the transaction with a disposition: scard.LeaveCard keeps the
// card's state, scard.ResetCard resets it (dropping verified PINs).
func (c *Card) End(d scard.Disposition) error {
	if err := c.lock("ending transaction"); err != nil {
		return err
	}
	defer c.mu.Unlock()
	return wrap("ending transaction", c.h.EndTransaction(d))
}

// Close disconnects, leaving the card as it is (SCARD_LEAVE_CARD); pcscd
// powers it down about a second later when nobody else holds it
// (docs/vpcd-pcscd.md §3.3). Closing twice is not an error.
func (c *Card) Close() error {
	return c.Disconnect(scard.LeaveCard)
}

// Disconnect closes the connection with a disposition (SCardDisconnect).
// A card that was removed meanwhile is not an error: the handle is gone
// either way.
func (c *Card) Disconnect(d scard.Disposition) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.h.Disconnect(d)
	if err == scard.ErrRemovedCard || err == scard.ErrInvalidHandle { //nolint:errorlint // scard returns bare codes
		err = nil
	}
	err = wrap(fmt.Sprintf("disconnecting from %q", c.reader), err)
	if c.owned != nil {
		err = errors.Join(err, c.owned.Close())
	}
	return err
}
