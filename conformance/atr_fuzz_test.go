package conformance

import "testing"

// FuzzParseATR: the parser that reads physical cards' ATRs returns an
// error or a structure whose methods are safe to call, never panics, and
// accepts nothing outside 2–33 bytes starting 3B or 3F (ISO/IEC 7816-3 8.2).
func FuzzParseATR(f *testing.F) {
	for _, s := range [][]byte{
		{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}, // the My Number Card
		{0x3B, 0x8A, 0x80, 0x01, 0x80, 0x31, 0xF8, 0x73, 0xF7, 0x41, 0xE0, 0x82, 0x90, 0x00, 0x75},
		{0x3B, 0x95, 0x13, 0x81, 0x01, 0x80, 0x73, 0xFF, 0x01, 0x00, 0x0B},
		{0x3F, 0x00},
		{0x3B, 0xFF},
		{},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseATR(b)
		if err != nil {
			return
		}
		if len(b) < 2 || len(b) > 33 || (b[0] != 0x3B && b[0] != 0x3F) {
			t.Fatalf("accepted % X", b)
		}
		for p := range 16 {
			_ = a.Offers(p)
		}
		_ = a.Contactless()
	})
}
