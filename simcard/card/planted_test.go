package card

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/mynahil/mynahil/simcard/apdu"
)

// testAID is the application DF of these tests; any AID works.
var testAID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

const (
	testPINID uint16 = 0x0018
	testKeyID uint16 = 0x0017
)

// testCard is a card with one DF holding a 4-digit PIN (3 tries) and a key
// usable after it; persist receives every stored state.
func testCard(t testing.TB, persist Persister) *Card {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	df := &DF{Name: "test", AID: testAID}
	df.AddPIN(testPINID, "1234", 3, PINFormat{Min: 4, Max: 4, Charset: Digits}, []byte("salt"))
	df.AddKey(testKeyID, NewKey(priv, NeedPIN(testPINID)))
	st := State{DFs: []*DF{df}, DataObjects: map[uint16][]byte{tagATR: DefaultATR[1:]}}
	opts := []Option{}
	if persist != nil {
		opts = append(opts, WithPersister(persist))
	}
	c, err := New(st, opts...)
	if err != nil {
		panic(err) // one applet, one AID: New cannot refuse it
	}
	return c
}

func send(t *testing.T, c *Card, hexAPDU ...byte) (data []byte, sw apdu.SW) {
	t.Helper()
	r := c.Transmit(hexAPDU)
	if len(r) < 2 {
		t.Fatalf("% X answered % X: no status word", hexAPDU, r)
	}
	return r[:len(r)-2], apdu.SW(uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1]))
}

func selectPIN(t *testing.T, c *Card) {
	t.Helper()
	if _, sw := send(t, c, append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(testAID))}, testAID...)...); sw != apdu.OK {
		t.Fatalf("SELECT AP: %04X", uint16(sw))
	}
	if _, sw := send(t, c, 0x00, 0xA4, 0x02, 0x0C, 0x02, byte(testPINID>>8), byte(testPINID)); sw != apdu.OK {
		t.Fatalf("SELECT PIN EF: %04X", uint16(sw))
	}
}

// leftIn decodes the PIN counter from a stored state.
func leftIn(t *testing.T, state []byte) int {
	t.Helper()
	var st State
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	return st.DFs[0].File(testPINID).PIN.Left
}

// TestVerifyStoresTheTryBeforeComparing watches the order of what VERIFY
// stores and compares: a try is spent and stored before the PIN is
// compared, so cutting power after the comparison can never give the try
// back (anti-tearing, docs/card.md §5.5). The final counter alone cannot tell
// the two orders apart; the sequence of events can.
func TestVerifyStoresTheTryBeforeComparing(t *testing.T) {
	var events []string
	c := testCard(t, func(state []byte) error {
		events = append(events, fmt.Sprintf("store left=%d", leftIn(t, state)))
		return nil
	})
	pinCompared = func() { events = append(events, "compare") }
	t.Cleanup(func() { pinCompared = nil })
	selectPIN(t, c)
	for _, tc := range []struct {
		name string
		pin  string
		sw   apdu.SW
		want []string
	}{
		{"wrong PIN", "0000", apdu.VerifyFailed(2), []string{"store left=2", "compare"}},
		{"right PIN", "1234", apdu.OK, []string{"store left=1", "compare", "store left=3"}},
	} {
		events = nil
		if _, sw := send(t, c, append([]byte{0x00, 0x20, 0x00, 0x80, 0x04}, tc.pin...)...); sw != tc.sw {
			t.Errorf("%s: VERIFY answered %04X, want %04X", tc.name, uint16(sw), uint16(tc.sw))
		}
		if !slices.Equal(events, tc.want) {
			t.Errorf("%s: VERIFY did %q, want %q (the spent try must be stored before the comparison)", tc.name, events, tc.want)
		}
	}
}

// TestVerifyNoAnswerWhenStoringFails: a card that cannot store the spent
// try must not compare at all (as if power was cut during the write).
func TestVerifyNoAnswerWhenStoringFails(t *testing.T) {
	compared := false
	c := testCard(t, func([]byte) error { return fmt.Errorf("EEPROM write failed") })
	pinCompared = func() { compared = true }
	t.Cleanup(func() { pinCompared = nil })
	selectPIN(t, c)
	if _, sw := send(t, c, 0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'); sw == apdu.OK {
		t.Error("VERIFY answered 9000 although the spent try could not be stored")
	}
	if compared {
		t.Error("VERIFY compared the PIN although the spent try could not be stored")
	}
}

// TestSignatureSchemeOutOfRange: COMPUTE DIGITAL SIGNATURE knows P1 00–05
// only (docs/card.md §4.5); any other P1 answers 6A86 and never a bare 9000.
func TestSignatureSchemeOutOfRange(t *testing.T) {
	c := testCard(t, nil)
	selectPIN(t, c)
	if _, sw := send(t, c, 0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'); sw != apdu.OK {
		t.Fatalf("VERIFY: %04X", uint16(sw))
	}
	digest := make([]byte, 32)
	sig := func(p1 byte) ([]byte, apdu.SW) {
		cmd := append([]byte{0x80, 0x2A, p1, 0x80 | byte(testKeyID), byte(len(digest))}, digest...)
		return send(t, c, append(cmd, 0x00)...)
	}
	if data, sw := sig(0x02); sw != apdu.OK || len(data) != 256 {
		t.Fatalf("P1=02: %d bytes, %04X; want a 256-byte signature and 9000", len(data), uint16(sw))
	}
	for _, p1 := range []byte{0x06, 0x07, 0x10, 0x80, 0xFF} {
		if data, sw := sig(p1); sw != apdu.IncorrectP1P2 || len(data) != 0 {
			t.Errorf("P1=%02X: %d bytes, %04X; want 6A86 and no data", p1, len(data), uint16(sw))
		}
	}
}

// TestGetDataExactlyLe: GET DATA returns an object exactly Le long and
// refuses a shorter Le with 6700 (ISO/IEC 7816-4 7.4.2, docs/card.md §3.6).
func TestGetDataExactlyLe(t *testing.T) {
	c := testCard(t, nil)
	obj := DefaultATR[1:]
	for _, tc := range []struct {
		le   int
		sw   apdu.SW
		data []byte
	}{
		{len(obj) - 1, apdu.WrongLength, nil},
		{len(obj), apdu.OK, obj},
		{len(obj) + 1, apdu.OK, obj},
		{256, apdu.OK, obj}, // Le = 00
	} {
		data, sw := send(t, c, 0x00, 0xCA, 0x5F, 0x51, byte(tc.le))
		if sw != tc.sw || string(data) != string(tc.data) {
			t.Errorf("GET DATA 5F51 with Le=%d: % X %04X, want % X %04X", tc.le, data, uint16(sw), tc.data, uint16(tc.sw))
		}
	}
}
