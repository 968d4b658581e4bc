// Package jpki builds the JPKI applet (公的個人認証AP) of the simulated card:
// its AID, its files and their access rules (docs/card.md §3.1, §5.2).
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

// TokenLabel is the label of a plastic card's token (EF 0006 bytes 0–31).
const TokenLabel = "JPKIAPICCTOKEN2"

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
}

// NewDF builds the applet. salt returns a fresh random salt per PIN.
func NewDF(c Contents, salt func() []byte) *card.DF {
	df := &card.DF{Name: "JPKI-AP", AID: append([]byte(nil), AID...)}
	df.AddBinary(EFTokenInfo, TokenInfo(), card.Free)
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

// TokenInfo is EF 0006: a serialised PKCS#11 CK_TOKEN_INFO of 160 bytes with
// big-endian integers, strings padded with spaces (never NUL: myna trims only
// spaces), with the values of a physical card (docs/card.md §3.1.1).
func TokenInfo() []byte {
	b := make([]byte, 0, 160)
	pad := func(s string, n int) {
		b = append(b, s...)
		b = append(b, bytes.Repeat([]byte{' '}, n-len(s))...)
	}
	u32 := func(v uint32) { b = binary.BigEndian.AppendUint32(b, v) }
	pad(TokenLabel, 32)
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
