package pcsc_test

import (
	"bytes"
	"sync"
)

// testCard is the card the PC/SC suite serves through vpcd: just enough of
// an ISO 7816-4 card to prove what the binding carries, written here so the
// harness's tests do not depend on the simulator (docs/suites.md, "One-way
// imports"). It answers
//
//	SELECT (00 A4 …)                    9000
//	READ BINARY (00 B0 P1 P2 Le)        Le bytes of testData from offset P1P2, 9000
//	VERIFY (00 20 00 P2 Lc PIN)         9000 when PIN is testPIN (and then
//	                                    remembers it), 63C2 otherwise
//	COMPUTE SIGNATURE (80 2A 00 80 …)   256 bytes + 9000 once verified, else 6982
//
// and forgets the verification on a warm reset or a power cycle, as a card
// does (docs/card.md).
type testCard struct {
	mu       sync.Mutex
	verified bool
}

// testATR is the My Number Card's ATR (docs/card.md §1).
var testATR = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}

// testPIN is the PIN testCard accepts.
var testPIN = []byte("1234")

// testData is the content READ BINARY reads: byte i is i*7+3 mod 256, so a
// read at the wrong offset shows.
var testData = func() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}()

// selectAP is a SELECT by DF name (the JPKI AP's, docs/card.md §2).
var selectAP = []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// signCommand is a COMPUTE SIGNATURE with a 32-byte input.
var signCommand = append(append([]byte{0x80, 0x2A, 0x00, 0x80, 0x20}, bytes.Repeat([]byte{0x5A}, 32)...), 0x00)

func (c *testCard) ATR() []byte { return append([]byte(nil), testATR...) }

func (c *testCard) Transmit(cmd []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(cmd) < 4 {
		return []byte{0x67, 0x00}
	}
	switch {
	case cmd[0] == 0x00 && cmd[1] == 0xA4:
		return []byte{0x90, 0x00}
	case cmd[0] == 0x00 && cmd[1] == 0xB0 && len(cmd) == 5:
		off, n := int(cmd[2])<<8|int(cmd[3]), int(cmd[4])
		if n == 0 {
			n = 256
		}
		if off+n > len(testData) {
			return []byte{0x6B, 0x00}
		}
		return append(append([]byte(nil), testData[off:off+n]...), 0x90, 0x00)
	case cmd[0] == 0x00 && cmd[1] == 0x20 && len(cmd) > 5:
		if bytes.Equal(cmd[5:], testPIN) {
			c.verified = true
			return []byte{0x90, 0x00}
		}
		return []byte{0x63, 0xC2}
	case cmd[0] == 0x80 && cmd[1] == 0x2A:
		if !c.verified {
			return []byte{0x69, 0x82}
		}
		return append(bytes.Repeat([]byte{0xA5}, 256), 0x90, 0x00)
	}
	return []byte{0x6D, 0x00}
}

func (c *testCard) PowerOn()  { c.forget() }
func (c *testCard) PowerOff() { c.forget() }
func (c *testCard) Reset()    { c.forget() }

func (c *testCard) forget() {
	c.mu.Lock()
	c.verified = false
	c.mu.Unlock()
}
