// Package jpki builds the JPKI applet (公的個人認証AP) of the simulated card:
// its AID, its files and their access rules (docs/card.md §3.1, §5.2).
//
// The client that talks to it, harness/jpkiclient, is written on its own
// from the same documents, so that the card and its client cannot share a
// misreading (docs/architecture.md).
package jpki

import (
	"bytes"
	"crypto/rsa"
	"encoding/binary"
	"slices"

	"github.com/mynahil/mynahil/simcard/card"
)

// AID of the JPKI applet (docs/card.md §2).
var AID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// File identifiers of the JPKI applet (docs/card.md §3.1).
const (
	EFSignCert  uint16 = 0x0001
	EFSignCA    uint16 = 0x0002
	EFTokenInfo uint16 = 0x0006
	EFPresence  uint16 = 0x0008
	EFAuthCert  uint16 = 0x000A
	EFAuthCA    uint16 = 0x000B
	EFAuthKey   uint16 = 0x0017
	EFAuthPIN   uint16 = 0x0018
	EFSignKey   uint16 = 0x001A
	EFSignPIN   uint16 = 0x001B
)

// PIN rules (docs/card.md §3.1; OpenSC jpki.h).
const (
	AuthPINTries = 3
	SignPINTries = 5
)

// PIN formats (docs/lifecycle-rules.md §1).
var (
	AuthPINFormat = card.PINFormat{Min: 4, Max: 4, Charset: card.Digits}
	SignPINFormat = card.PINFormat{Min: 6, Max: 16, Charset: card.UpperAlnum}
)

// Token labels (EF 0006 bytes 0–31). The label is how clients tell the
// plastic card from the phone tokens, which speak the same protocol
// (myna-card ap/jpki.rs read_token_type; docs/card.md §1.3).
const (
	// TokenLabel is the plastic My Number Card's, the only one OpenSC's
	// PKCS#15 emulator and jpki/myna were written for.
	TokenLabel = "JPKIAPICCTOKEN2"
	// TokenAndroid is the smartphone JPKI token in an Android phone's secure
	// element; jpki/myna accepts it and verifies the auth PIN before reading
	// the auth certificate (myna-go cmd/jpki.go, jpki/myna issue #6).
	TokenAndroid = "JPKIAPGPSETOKEN"
	// TokenIPhone is the iPhone's JPKI token (myna-card ap/jpki.rs).
	TokenIPhone = "JPKIAPIOSTOKEN"
	// TokenJuki is the old resident-registry card's label, which clients
	// must reject: myna-go answers "this is a Juki card?".
	TokenJuki = "JPKIAPICCTOKEN"
)

// PhoneToken reports whether a label is a phone token's, whose auth
// certificate is read only after the auth PIN (myna-go cmd/jpki.go;
// myna-rs cli.rs).
func PhoneToken(label string) bool { return label == TokenAndroid || label == TokenIPhone }

// ScanOnly are the JPKI EFs known only from EF scans of real cards (jsapdu
// constants.ts JPKI_AP_EF; myna-card ap/jpki.rs for 0009 and 0016). 0009 is
// a protected transparent EF that nothing made readable: READ answers 6982;
// the others (0016 is the terminal-CA key reference of 80 A2) are internal:
// READ answers 6981 (docs/card.md §3.1).
var ScanOnly = []uint16{EFProtected, 0x0005, 0x0010, 0x0016, 0x0019, 0x001C, 0x001E}

// EFProtected is EF 0009, readable by no credential a client has.
const EFProtected uint16 = 0x0009

// Credential is one certificate with its key.
type Credential struct {
	Cert []byte // DER
	Key  *rsa.PrivateKey
}

// Contents is what the applet holds. A nil credential leaves the certificate
// and key out (declined, or a holder under 15 for signing); its PIN is then
// present but blocked, so PIN status queries still answer 63C0 as OpenSC's
// bind requires (docs/card.md §4.1).
type Contents struct {
	Auth, Sign       *Credential
	AuthCA, SignCA   []byte // DER
	AuthPIN, SignPIN string
	// Token is the label in EF 0006; empty means TokenLabel.
	Token string
}

// NewDF builds the applet. salt returns a fresh random salt per PIN.
func NewDF(c Contents, salt func() []byte) *card.DF {
	df := &card.DF{Name: "JPKI-AP", AID: append([]byte(nil), AID...)}
	token := c.Token
	if token == "" {
		token = TokenLabel
	}
	df.AddBinary(EFTokenInfo, TokenInfoFor(token), card.Free)
	df.AddBinary(EFProtected, bytes.Repeat([]byte{0xFF}, 16), card.Access{Never: true})
	df.AddOpaque(ScanOnly[1:]...)
	df.AddBinary(EFPresence, Presence(c.Sign != nil, c.Auth != nil), card.Free)
	df.AddBinary(EFAuthCA, c.AuthCA, card.Free)
	df.AddBinary(EFSignCA, c.SignCA, card.Free)
	df.AddPIN(EFAuthPIN, c.AuthPIN, AuthPINTries, AuthPINFormat, salt())
	df.AddPIN(EFSignPIN, c.SignPIN, SignPINTries, SignPINFormat, salt())
	if c.Auth != nil {
		SetCredential(df, false, c.Auth)
	} else {
		df.File(EFAuthPIN).PIN.Left = 0
	}
	if c.Sign != nil {
		SetCredential(df, true, c.Sign)
	} else {
		df.File(EFSignPIN).PIN.Left = 0
	}
	return df
}

// SetCredential writes (or replaces) the signing or authentication
// certificate and key, and updates EF 0008.
func SetCredential(df *card.DF, sign bool, cred *Credential) {
	certID, keyID, pinID := EFAuthCert, EFAuthKey, EFAuthPIN
	read := card.Free
	if PhoneToken(Label(df)) {
		read = card.NeedPIN(EFAuthPIN)
	}
	if sign {
		certID, keyID, pinID = EFSignCert, EFSignKey, EFSignPIN
		read = card.NeedPIN(EFSignPIN) // docs/card.md §3.1: READ of 0001 needs the sign PIN
	}
	removeFiles(df, certID, keyID)
	df.AddBinary(certID, cred.Cert, read)
	df.AddKey(keyID, card.NewKey(cred.Key, card.NeedPIN(pinID)))
	updatePresence(df)
}

// RemoveCredential deletes a certificate and its key (after revocation the
// office takes them off the card), and updates EF 0008.
func RemoveCredential(df *card.DF, sign bool) {
	if sign {
		removeFiles(df, EFSignCert, EFSignKey)
	} else {
		removeFiles(df, EFAuthCert, EFAuthKey)
	}
	updatePresence(df)
}

func removeFiles(df *card.DF, ids ...uint16) {
	kept := df.Files[:0]
	for _, f := range df.Files {
		if !slices.Contains(ids, f.ID) {
			kept = append(kept, f)
		}
	}
	df.Files = kept
}

func updatePresence(df *card.DF) {
	if f := df.File(EFPresence); f != nil {
		f.Data = Presence(df.File(EFSignCert) != nil, df.File(EFAuthCert) != nil)
	}
}

// Presence is EF 0008: byte 0 the signing certificate, byte 1 the
// authentication certificate, 8F when present; 8F 8F 00 on a card with both
// (docs/card.md §3.1; a missing one reads 00, as in myna-card's 00 8F 00).
func Presence(sign, auth bool) []byte {
	b := []byte{0x00, 0x00, 0x00}
	if sign {
		b[0] = 0x8F
	}
	if auth {
		b[1] = 0x8F
	}
	return b
}

// Label returns the token label held in the applet's EF 0006, spaces
// trimmed, or "" when there is none.
func Label(df *card.DF) string {
	f := df.File(EFTokenInfo)
	if f == nil || len(f.Data) < 32 {
		return ""
	}
	return string(bytes.TrimRight(f.Data[:32], " "))
}

// TokenInfo is EF 0006 of the plastic card (TokenInfoFor(TokenLabel)).
func TokenInfo() []byte { return TokenInfoFor(TokenLabel) }

// TokenInfoFor is EF 0006: a serialised PKCS#11 CK_TOKEN_INFO of 160 bytes with
// big-endian integers, strings padded with spaces (never NUL: myna trims only
// spaces), with the values of a physical card (docs/card.md §3.1.1).
func TokenInfoFor(label string) []byte {
	b := make([]byte, 0, 160)
	pad := func(s string, n int) {
		b = append(b, s...)
		b = append(b, bytes.Repeat([]byte{' '}, n-len(s))...)
	}
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	pad(label, 32)
	pad("00000000000000000000000000000001", 32) // manufacturerID
	pad("E16R01NJ", 16)                         // model
	pad("0000000020500003", 16)                 // serialNumber
	u32(0x0000040D)                             // RNG | LOGIN_REQUIRED | USER_PIN_INITIALIZED | TOKEN_INITIALIZED
	u32(1)                                      // maxSessionCount
	u32(0)                                      // sessionCount
	u32(1)                                      // maxRwSessionCount
	u32(0)                                      // rwSessionCount
	u32(16)                                     // maxPinLen
	u32(6)                                      // minPinLen
	for range 4 {
		u32(0xFFFFFFFF) // total/free public/private memory
	}
	b = append(b, "03"...) // hardwareVersion
	b = append(b, "01"...) // firmwareVersion
	pad("", 16)            // utcTime
	return b
}
