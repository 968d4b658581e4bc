// Package cardinfoclient is a client for the My Number Card's applets other than
// JPKI, over a harness.Transport: the card-info input support applet
// (券面事項入力補助AP, "text", docs/card.md §3.2) with the My Number, the four
// basic facts, their signed integrity record and the applet's card-verifiable
// certificate; the card-face applet (券面AP, "visual", §3.3); and the status
// of all seven PINs the holder's software checks (§4.2, §4.3).
//
// It sends what myna sends (§4.2, §4.3): short APDUs only, SELECT with
// P2=0C, VERIFY after SELECTing the key EF, READ BINARY from offset 0 in
// chunks of Le=00. TLV files are read as myna-go does: the first 7 bytes,
// the BER tag and length parsed from them, then the whole TLV.
//
// Like package jpkiclient, the client is written from the spec documents only,
// independently of the simulated card's applets (simcard/cardinfo), so that
// the two cannot share a misreading (docs/architecture.md); and its operations never select an applet themselves (except
// PINStatus, which visits three), because selecting an applet clears every
// verified key (§5.1) and a suite must control that. Call Select first.
//
// PINs, 照合番号A (the My Number) and 照合番号B are typed (PIN, MyNumber,
// CodeB) and print as masks; the trace package masks VERIFY data on the wire.
package cardinfoclient

import (
	"errors"
	"fmt"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// PIN is a 4-digit PIN value, printed as a mask (see jpkiclient.PIN).
type PIN = jpkiclient.PIN

// Applet names one of the applets the client selects.
type Applet int

// The applets (docs/card.md §2).
const (
	TextAP   Applet = iota // 券面事項入力補助AP, D3 92 10 00 31 00 01 01 04 08
	VisualAP               // 券面AP, D3 92 10 00 31 00 01 01 04 02
	JPKIAP                 // 公的個人認証AP; only for PIN status
)

var (
	textAID   = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}
	visualAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02}
)

// AID returns the applet's DF name (a copy).
func (a Applet) AID() []byte {
	switch a {
	case TextAP:
		return append([]byte(nil), textAID...)
	case VisualAP:
		return append([]byte(nil), visualAID...)
	case JPKIAP:
		return append([]byte(nil), jpkiclient.AID...)
	}
	return nil
}

func (a Applet) String() string {
	switch a {
	case TextAP:
		return "card-info applet"
	case VisualAP:
		return "card-face applet"
	case JPKIAP:
		return "JPKI applet"
	}
	return fmt.Sprintf("Applet(%d)", int(a))
}

// FileID is a 2-byte EF identifier within an applet.
type FileID uint16

func (f FileID) String() string { return fmt.Sprintf("EF %04X", uint16(f)) }

// The EFs of the card-info (text) applet, docs/card.md §3.2, with what opens
// them (§5.3).
const (
	EFTextMyNumber  FileID = 0x0001 // My Number, 17 bytes; PIN or 照合番号A
	EFTextFacts     FileID = 0x0002 // 基本4情報 FF 20; PIN or 照合番号B
	EFTextIntegrity FileID = 0x0003 // integrity record, 336 bytes; PIN or either code
	EFTextCert      FileID = 0x0004 // card-verifiable certificate, 568 bytes; free
	EFTextBasicInfo FileID = 0x0005 // applet basic info, ≥ 256 bytes; free
)

// The EFs of the card-face (visual) applet read here, docs/card.md §3.3.
const (
	EFVisualFace FileID = 0x0002 // card face FF 20; 照合番号A or B
)

// Key names one of the seven PINs and codes whose status myna reports
// (docs/card.md §4.2, §4.3), in myna's order.
type Key int

// The keys (docs/card.md §3.1–§3.3).
const (
	TextPIN     Key = iota // text EF 0011: the 4-digit card-info PIN, 3 tries
	TextCodeA              // text EF 0014: 照合番号A (the My Number)
	TextCodeB              // text EF 0015: 照合番号B (14 digits)
	VisualCodeA            // face EF 0013: 照合番号A
	VisualCodeB            // face EF 0012: 照合番号B
	JPKIAuthPIN            // JPKI EF 0018: auth PIN, 3 tries
	JPKISignPIN            // JPKI EF 001B: sign PIN, 5 tries
)

// AllKeys are the seven keys in myna's `pin status` order.
var AllKeys = []Key{TextPIN, TextCodeA, TextCodeB, VisualCodeA, VisualCodeB, JPKIAuthPIN, JPKISignPIN}

var keyInfo = [...]struct {
	applet Applet
	ef     FileID
	name   string
}{
	TextPIN:     {TextAP, 0x0011, "card-info PIN"},
	TextCodeA:   {TextAP, 0x0014, "card-info 照合番号A"},
	TextCodeB:   {TextAP, 0x0015, "card-info 照合番号B"},
	VisualCodeA: {VisualAP, 0x0013, "card-face 照合番号A"},
	VisualCodeB: {VisualAP, 0x0012, "card-face 照合番号B"},
	JPKIAuthPIN: {JPKIAP, FileID(jpkiclient.EFAuthPIN), "JPKI auth PIN"},
	JPKISignPIN: {JPKIAP, FileID(jpkiclient.EFSignPIN), "JPKI sign PIN"},
}

func (k Key) valid() bool { return k >= 0 && int(k) < len(keyInfo) }

// Applet returns the applet that holds the key.
func (k Key) Applet() Applet {
	if !k.valid() {
		return -1
	}
	return keyInfo[k].applet
}

// EF returns the key's internal EF, the one SELECTed before VERIFY.
func (k Key) EF() FileID {
	if !k.valid() {
		return 0
	}
	return keyInfo[k].ef
}

// SFI returns the key's short EF identifier: every EF on the card is in
// 0001–001E, so its low byte is its SFI (docs/card.md §3).
func (k Key) SFI() byte { return byte(k.EF()) }

func (k Key) String() string {
	if !k.valid() {
		return fmt.Sprintf("Key(%d)", int(k))
	}
	return keyInfo[k].name
}

// Client talks to the card-info applets through a Transport. It is not safe
// for concurrent use.
type Client struct {
	w *jpkiclient.Client // the wire: APDU encoding, SELECT EF and chunked READ BINARY are the same as in JPKI
}

// New returns a Client over t. It sends nothing.
func New(t harness.Transport) *Client { return &Client{w: jpkiclient.New(t)} }

// Transmit sends cmd and returns the parsed response whatever its status
// word; the error is for transport failures and malformed responses only.
func (c *Client) Transmit(cmd apduclient.Command) (apduclient.Response, error) {
	return c.w.Transmit(cmd)
}

// Select selects applet a by DF name with P2=0C (ISO/IEC 7816-4 clause
// 11.1.1; docs/card.md §4.2). It clears every verified key (§5.1).
func (c *Client) Select(a Applet) error {
	aid := a.AID()
	if aid == nil {
		return fmt.Errorf("selecting %v: unknown applet", a)
	}
	if _, err := c.w.Do(apduclient.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: aid}); err != nil {
		return fmt.Errorf("selecting %v: %w", a, err)
	}
	return nil
}

// SelectEF selects an EF of the current applet by file identifier:
// `00 A4 02 0C 02 FID` (docs/card.md §4.2).
func (c *Client) SelectEF(f FileID) error { return c.w.SelectEF(jpkiclient.FileID(f)) }

// ReadBinary reads n bytes of the current EF from offset in chunks of Le=00
// and a last chunk of the remainder (docs/card.md §4.2, §7); see
// jpkiclient.Client.ReadBinary.
func (c *Client) ReadBinary(offset, n int) ([]byte, error) { return c.w.ReadBinary(offset, n) }

// tlvProbe is how many bytes myna-go reads to find a TLV's size (§4.2): a
// two-byte tag and an 82 HH LL length.
const tlvProbe = 7

// ReadTLV selects f and reads the TLV at its start: first 7 bytes (the card
// answers fewer for a shorter file, §7), whose tag and length give the TLV's
// size, then the whole TLV from offset 0, as myna-go reads text EF 0002
// (docs/card.md §4.2). Filler after the TLV is never requested.
func (c *Client) ReadTLV(f FileID) ([]byte, error) {
	if err := c.SelectEF(f); err != nil {
		return nil, err
	}
	head, err := c.w.Do(apduclient.Command{INS: 0xB0, Ne: tlvProbe})
	if err != nil {
		return nil, fmt.Errorf("reading header of %v: %w", f, err)
	}
	if len(head) > tlvProbe {
		return nil, fmt.Errorf("reading header of %v: card returned %d bytes for Le %d", f, len(head), tlvProbe)
	}
	h, err := ParseHeader(head)
	if err != nil {
		return nil, fmt.Errorf("parsing header of %v: %w", f, err)
	}
	b, err := c.ReadBinary(0, h.TotalLen())
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", f, err)
	}
	return b, nil
}

// readEF selects f and reads exactly n bytes from offset 0, the fixed sizes
// myna-go reads (docs/card.md §4.2).
func (c *Client) readEF(f FileID, n int) ([]byte, error) {
	if err := c.SelectEF(f); err != nil {
		return nil, err
	}
	b, err := c.ReadBinary(0, n)
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", f, err)
	}
	return b, nil
}

// Verify selects the key's EF in the current applet and sends VERIFY
// `00 20 00 80 Lc value` (ISO/IEC 7816-4 clause 11.5.6; docs/card.md §4.2).
// Codes go as their ASCII digits: Verify(TextCodeA, PIN(myNumber)). A wrong
// value gives an error matching apduclient.ErrWrongPIN (errors.As
// *apduclient.WrongPINError for the tries left); a blocked key, apduclient.ErrPINBlocked.
// The value is not checked locally beyond being non-empty and fitting a
// short APDU, so that suites can send what the card should refuse.
func (c *Client) Verify(k Key, value PIN) error {
	if err := c.verify(k, value); err != nil {
		return fmt.Errorf("verifying %v: %w", k, err)
	}
	return nil
}

func (c *Client) verify(k Key, value PIN) error {
	if !k.valid() {
		return errors.New("unknown key")
	}
	if len(value) == 0 {
		return jpkiclient.ErrEmptyPIN
	}
	if len(value) > apduclient.MaxShortNc {
		return fmt.Errorf("value of %d bytes does not fit a short APDU", len(value))
	}
	if err := c.SelectEF(k.EF()); err != nil {
		return err
	}
	_, err := c.w.Do(apduclient.Command{INS: 0x20, P2: 0x80, Data: []byte(value)})
	return err
}

// TriesLeft selects the key's EF in the current applet and sends the empty
// VERIFY `00 20 00 80` (case 1), which the card answers with 63Cx
// (docs/card.md §4.2, §4.6). Like myna-rs, anything else is an error, 9000
// included (§4.3, §10).
func (c *Client) TriesLeft(k Key) (int, error) {
	if !k.valid() {
		return 0, fmt.Errorf("querying tries left of %v: unknown key", k)
	}
	if err := c.SelectEF(k.EF()); err != nil {
		return 0, fmt.Errorf("querying tries left of %v: %w", k, err)
	}
	return c.triesLeft(k, 0x80)
}

// TriesLeftSFI sends the empty VERIFY with P2 = 80|SFI and no prior SELECT
// (docs/card.md §4.5, §9 item 5), the short-EF-ID form jsapdu uses.
func (c *Client) TriesLeftSFI(k Key) (int, error) {
	if !k.valid() {
		return 0, fmt.Errorf("querying tries left of %v: unknown key", k)
	}
	return c.triesLeft(k, 0x80|k.SFI())
}

func (c *Client) triesLeft(k Key, p2 byte) (int, error) {
	r, err := c.w.Transmit(apduclient.Command{INS: 0x20, P2: p2})
	if err != nil {
		return 0, fmt.Errorf("querying tries left of %v: %w", k, err)
	}
	if r.SW&0xFFF0 != 0x63C0 {
		if r.SW == apduclient.SWSuccess {
			return 0, fmt.Errorf("querying tries left of %v: card answered 9000, want 63Cx", k)
		}
		return 0, fmt.Errorf("querying tries left of %v: %w", k, r.Err())
	}
	return int(r.SW & 0x0F), nil
}

// PINStatus is the tries left of each of the seven keys.
type PINStatus struct {
	TextPIN, TextCodeA, TextCodeB int
	VisualCodeA, VisualCodeB      int
	JPKIAuthPIN, JPKISignPIN      int
}

// Of returns the tries left of k (−1 for an unknown key).
func (s PINStatus) Of(k Key) int {
	if p := s.field(k); p != nil {
		return *p
	}
	return -1
}

func (s *PINStatus) field(k Key) *int {
	switch k {
	case TextPIN:
		return &s.TextPIN
	case TextCodeA:
		return &s.TextCodeA
	case TextCodeB:
		return &s.TextCodeB
	case VisualCodeA:
		return &s.VisualCodeA
	case VisualCodeB:
		return &s.VisualCodeB
	case JPKIAuthPIN:
		return &s.JPKIAuthPIN
	case JPKISignPIN:
		return &s.JPKISignPIN
	}
	return nil
}

// PINStatus reads the tries left of all seven keys as `myna pin status` does
// (docs/card.md §4.2, §4.3): SELECT text applet, then SELECT EF + empty
// VERIFY for 0011, 0014, 0015; SELECT card-face applet, 0013, 0012; SELECT
// JPKI applet, 0018, 001B. Every answer must be 63Cx. It leaves the JPKI
// applet selected and no key verified.
func (c *Client) PINStatus() (PINStatus, error) { return c.pinStatus(false) }

// PINStatusSFI is PINStatus with the empty VERIFYs sent as
// `00 20 00 80|SFI` without SELECTing the key EFs (docs/card.md §4.5).
func (c *Client) PINStatusSFI() (PINStatus, error) { return c.pinStatus(true) }

func (c *Client) pinStatus(sfi bool) (PINStatus, error) {
	var s PINStatus
	selected := Applet(-1)
	for _, k := range AllKeys {
		if a := k.Applet(); a != selected {
			if err := c.Select(a); err != nil {
				return s, fmt.Errorf("reading PIN status: %w", err)
			}
			selected = a
		}
		var n int
		var err error
		if sfi {
			n, err = c.TriesLeftSFI(k)
		} else {
			n, err = c.TriesLeft(k)
		}
		if err != nil {
			return s, fmt.Errorf("reading PIN status: %w", err)
		}
		*s.field(k) = n
	}
	return s, nil
}
