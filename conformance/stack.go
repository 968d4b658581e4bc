package conformance

import (
	"errors"
	"slices"
	"sync/atomic"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// pcscCard is what the checks use of a card handle (*pcsc.Card, or a
// lying stack's wrapper of one).
type pcscCard interface {
	TransmitBuffer(cmd []byte, bufLen int) (pcsc.Received, error)
	Status() (*pcsc.CardStatus, error)
	Reconnect(disp pcsc.Disposition) error
	Disconnect(disp pcsc.Disposition) error
	Begin() error
	End(disp pcsc.Disposition) error
	Control(ioctl uint32, in []byte) ([]byte, error)
	GetAttrib(id pcsc.Attrib) ([]byte, error)
	ActiveProtocol() pcsc.Protocol
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
	*pcsc.Card
	lies faults.Stack
	// gone is set once a transmit failed (the card left, in R04): that and
	// every later transmit "succeed" with 90 00 (StaleHandle).
	gone atomic.Bool
	// statuses counts SCardStatus calls: every other one reports another
	// ATR (StatusLies), the first among them.
	statuses atomic.Int64
}

func (c *lyingCard) TransmitBuffer(cmd []byte, bufLen int) (pcsc.Received, error) {
	r, err := c.Card.TransmitBuffer(cmd, bufLen)
	if !c.lies.StaleHandle {
		return r, err
	}
	// A reset (SCARD_W_RESET_CARD, by this handle or another) is no removal.
	if c.gone.Load() || (err != nil && !errors.Is(err, pcsc.ErrCardReset)) {
		c.gone.Store(true)
		return pcsc.Received{Data: []byte{0x90, 0x00}, Needed: 2}, nil
	}
	return r, err
}

func (c *lyingCard) Status() (*pcsc.CardStatus, error) {
	st, err := c.Card.Status()
	if err != nil || !c.lies.StatusLies {
		return st, err
	}
	lie := *st
	lie.Reader += " (another)"
	lie.State &^= pcsc.Powered | pcsc.Specific | pcsc.Negotiable
	if c.statuses.Add(1)%2 == 1 {
		lie.ATR = otherATR(st.ATR)
	}
	return &lie, nil
}

func (c *lyingCard) Disconnect(disp pcsc.Disposition) error {
	if c.lies.ResetOnLeave && disp == pcsc.LeaveCard {
		disp = pcsc.ResetCard
	}
	return c.Card.Disconnect(disp)
}

func (c *lyingCard) Begin() error {
	if c.lies.NoSharing {
		return nil
	}
	return c.Card.Begin()
}

func (c *lyingCard) End(disp pcsc.Disposition) error {
	err := c.Card.End(disp)
	if c.lies.NoSharing {
		return nil
	}
	return err
}
