// Package fakecard is a card of PINs only, for the tests of the PIN budget
// and the guards that use it (harness/pinbudget, harness/target,
// harness/transcript): it answers SELECT by DF name and by EF, the status
// query (VERIFY without data, 63Cx) and VERIFY as docs/card.md §7 says, and
// counts every VERIFY with data it receives, so a test can assert how many
// tries a run spent. It is not the simulator (harness code never imports
// simcard): it knows nothing but PIN counters.
package fakecard

import (
	"bytes"
	"sync"
)

// PIN is one PIN of the fake card.
type PIN struct {
	AID   []byte
	EF    uint16
	Value string
	Max   int
	Left  int
}

// Card is the fake card. Set PINs before use; it is safe for concurrent use.
type Card struct {
	mu   sync.Mutex
	PINs []*PIN
	// Sent counts the VERIFYs with data received, per EF.
	Sent map[uint16]int
	aid  []byte
	ef   uint16
}

// New returns a card holding pins.
func New(pins ...*PIN) *Card { return &Card{PINs: pins, Sent: map[uint16]int{}} }

// Verifies returns how many VERIFYs with data the PIN in EF ef received.
func (c *Card) Verifies(ef uint16) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Sent[ef]
}

// Left returns the tries left of the PIN in EF ef.
func (c *Card) Left(ef uint16) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.PINs {
		if p.EF == ef {
			return p.Left
		}
	}
	return -1
}

// Transmit answers one command.
func (c *Card) Transmit(cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(cmd) < 4 {
		return []byte{0x67, 0x00}, nil
	}
	var data []byte
	if len(cmd) > 5 {
		data = cmd[5:]
		if int(cmd[4]) < len(data) {
			data = data[:cmd[4]]
		}
	}
	switch cmd[1] {
	case 0xA4:
		if cmd[2] == 0x04 {
			c.aid, c.ef = bytes.Clone(data), 0
			return []byte{0x90, 0x00}, nil
		}
		if len(data) == 2 {
			c.ef = uint16(data[0])<<8 | uint16(data[1])
			return []byte{0x90, 0x00}, nil
		}
		return []byte{0x6A, 0x82}, nil
	case 0x20:
		return c.verify(cmd[3], data), nil
	}
	return []byte{0x6D, 0x00}, nil
}

func (c *Card) verify(p2 byte, data []byte) []byte {
	ef := c.ef
	if sfi := p2 & 0x1F; sfi != 0 {
		ef = uint16(sfi)
	}
	var p *PIN
	for _, q := range c.PINs {
		if q.EF == ef && bytes.Equal(q.AID, c.aid) {
			p = q
		}
	}
	if p == nil {
		return []byte{0x69, 0x86}
	}
	if len(data) == 0 {
		return []byte{0x63, 0xC0 | byte(p.Left)}
	}
	c.Sent[ef]++
	if p.Left == 0 {
		return []byte{0x69, 0x84}
	}
	if string(data) == p.Value {
		p.Left = p.Max
		return []byte{0x90, 0x00}
	}
	p.Left--
	return []byte{0x63, 0xC0 | byte(p.Left)}
}

// Reset clears the selection (a warm reset).
func (c *Card) Reset() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aid, c.ef = nil, 0
	return nil
}
