package vpcd

// Card is what the card side drives; the simulated card satisfies it
// structurally. The card side calls it from one goroutine at a time.
//
// Transmit owns command and must return data + SW, at least 2 bytes and at
// most MaxPayload (docs/vpcd-pcscd.md §3.1, §10.4); anything else is answered
// with 6F00 instead. ATR must return 1..33 bytes starting 3B or 3F and stay
// stable while connected (§4, §10.5).
type Card interface {
	ATR() []byte
	Transmit(command []byte) []byte // returns data + SW, at least 2 bytes
	PowerOn()                       // cold reset
	PowerOff()
	Reset() // warm reset
}

// EchoATR is EchoCard's ATR: vicc's default iso7816 ATR, T=1, 11 bytes
// (docs/vpcd-pcscd.md §4), known to work with Debian 12's pcscd.
var EchoATR = []byte{0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B}

// EchoCard is a minimal stateless Card for transport tests and benchmarks:
// it answers every APDU with 9000, preceded by the whole command when
// EchoData is set (so a 65533-byte command yields the largest possible
// 65535-byte response). Power and reset are no-ops.
type EchoCard struct {
	EchoData bool
}

// ATR returns a copy of EchoATR.
func (EchoCard) ATR() []byte { return append([]byte(nil), EchoATR...) }

// Transmit answers 9000, after a copy of command if EchoData is set.
func (c EchoCard) Transmit(command []byte) []byte {
	if !c.EchoData {
		return []byte{0x90, 0x00}
	}
	resp := make([]byte, 0, len(command)+2)
	resp = append(resp, command...)
	return append(resp, 0x90, 0x00)
}

// PowerOn does nothing.
func (EchoCard) PowerOn() {}

// PowerOff does nothing.
func (EchoCard) PowerOff() {}

// Reset does nothing.
func (EchoCard) Reset() {}
