package conformance

import (
	"errors"
	"slices"
	"sync/atomic"

	"github.com/ebfe/scard"

	"github.com/mynahil/mynahil/vpcd/faults"
)

// pcscCard is what the checks use of a card handle (*scard.Card, or a
// lying stack's wrapper of one).
type pcscCard interface {
	Transmit(cmd []byte) ([]byte, error)
	Status() (*scard.CardStatus, error)
	Reconnect(mode scard.ShareMode, proto scard.Protocol, disp scard.Disposition) error
	Disconnect(disp scard.Disposition) error
	BeginTransaction() error
	EndTransaction(disp scard.Disposition) error
	Control(code uint32, in []byte) ([]byte, error)
	GetAttrib(id scard.Attrib) ([]byte, error)
	ActiveProtocol() scard.Protocol
}

// stackFault returns the PC/SC stack lies of the run's fault profile (only
// the simulated card has one; faults.Stack).
func (cfg *Config) stackFault() faults.Stack {
	if s, ok := cfg.Card.(*Sim); ok && s != nil {
		return s.profile.Stack
	}
	return faults.Stack{}
}

// otherATR is the ATR a lying SCardStatus reports: a My Number Card ATR
// (docs/conformance-checklist.md, Background) that is not the card's.
func otherATR(atr []byte) []byte {
	a := []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}
	if slices.Equal(a, atr) {
		a = []byte{0x3B, 0xC5, 0xFF, 0x81, 0x31, 0xFB, 0x45, 0x80, 0x73, 0xC6, 0x01, 0x00, 0x00}
	}
	return a
}

// lyingCard is a card handle seen through a broken PC/SC stack
// (faults.Stack): what pcscd would report if it got these things wrong.
type lyingCard struct {
	*scard.Card
	lies faults.Stack
	// gone is set once a transmit failed (the card left, in R04): that and
	// every later transmit "succeed" with 90 00 (StaleHandle).
	gone atomic.Bool
	// statuses counts SCardStatus calls: every other one reports another
	// ATR (StatusLies), the first among them.
	statuses atomic.Int64
}

func (c *lyingCard) Transmit(cmd []byte) ([]byte, error) {
	resp, err := c.Card.Transmit(cmd)
	if !c.lies.StaleHandle {
		return resp, err
	}
	// A reset (SCARD_W_RESET_CARD, by this handle or another) is no removal.
	if c.gone.Load() || (err != nil && !errors.Is(err, scard.ErrResetCard)) {
		c.gone.Store(true)
		return []byte{0x90, 0x00}, nil
	}
	return resp, err
}

func (c *lyingCard) Status() (*scard.CardStatus, error) {
	st, err := c.Card.Status()
	if err != nil || !c.lies.StatusLies {
		return st, err
	}
	lie := *st
	lie.Reader += " (another)"
	lie.State &^= scard.Powered | scard.Specific | scard.Negotiable
	if c.statuses.Add(1)%2 == 1 {
		lie.Atr = otherATR(st.Atr)
	}
	return &lie, nil
}

func (c *lyingCard) Disconnect(disp scard.Disposition) error {
	if c.lies.ResetOnLeave && disp == scard.LeaveCard {
		disp = scard.ResetCard
	}
	return c.Card.Disconnect(disp)
}

func (c *lyingCard) BeginTransaction() error {
	if c.lies.NoSharing {
		return nil
	}
	return c.Card.BeginTransaction()
}

func (c *lyingCard) EndTransaction(disp scard.Disposition) error {
	err := c.Card.EndTransaction(disp)
	if c.lies.NoSharing {
		return nil
	}
	return err
}
