package cardinfo

import (
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// CommonAID is the AID of 共通カードAP (本人確認業務用領域), the common-card
// applet; myna-rs calls it UNKNOWN_AID (docs/card.md §2).
var CommonAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00}

// JukiAID is the AID of 住基AP, the resident-registry applet (docs/card.md §2).
var JukiAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x01}

// Files of the common and resident-registry applets (docs/card.md §3.4, §3.5).
const (
	EFCommonInfo   uint16 = 0x0001 // record EF: record 1 = 01 1C serial, municipality, expiry
	EFKeyReference uint16 = 0x0002 // 16-byte key reference, the same in both applets
	EFCommonAuth   uint16 = 0x0019 // the only key that answers INTERNAL AUTHENTICATE
	EFJukiRecords  uint16 = 0x0001 // 住基AP's record EF of unknown content
	EFAppletPIN    uint16 = 0x001C // 4-digit PIN of either applet, changed with CHANGE KEY
)

// Retry limits: 3 for both 001C PINs (pysim; Nerima ward for 住基AP,
// docs/card.md §3.4). The common applet's figure is not published and
// follows the resident-registry one.
const (
	JukiPINTries   = 3
	CommonPINTries = 3
)

// FourDigitPIN is the format of the 001C PINs.
var FourDigitPIN = card.PINFormat{Min: 4, Max: 4, Charset: card.Digits}

// keyReference is EF 0002 of both applets: a 16-byte key reference
// (docs/card.md §3.4). Its content is unknown; the simulator writes a key
// identifier of the municipality.
func keyReference(p profile.Profile) []byte { return KeyID("6"+p.Municipality, "002") }

// CommonRecord is record 1 of the common applet's EF 0001: simple TLV 01 1C
// with 28 ASCII digits: a 15-digit serial, the 5-digit municipality code and
// the card's expiry YYYYMMDD (docs/card.md §3.5; myna-card common.rs).
func CommonRecord(serial, city string, exp time.Time) ([]byte, error) {
	if len(serial) != 15 || !allDigits(serial) {
		return nil, fmt.Errorf("writing common record: serial must be 15 digits")
	}
	if len(city) != 5 || !allDigits(city) {
		return nil, fmt.Errorf("writing common record: municipality code must be 5 digits")
	}
	v := serial + city + ymd(exp)
	return append([]byte{0x01, byte(len(v))}, v...), nil
}

func (a *Applets) buildCommon(p profile.Profile, exp time.Time, salt func() []byte) (*card.DF, error) {
	key, err := a.keys.Key()
	if err != nil {
		return nil, fmt.Errorf("drawing authentication key: %w", err)
	}
	rec, err := CommonRecord(randomDigits(salt, 15), cityCode(p), exp)
	if err != nil {
		return nil, err
	}
	df := &card.DF{Name: "共通カードAP", AID: append([]byte(nil), CommonAID...)}
	df.AddRecords(EFCommonInfo, [][]byte{rec}, card.Free)
	df.AddBinary(EFKeyReference, keyReference(p), card.Free)
	auth := card.NewKey(key, card.Free)
	auth.InternalAuth = true
	df.AddKey(EFCommonAuth, auth)
	df.AddPIN(EFAppletPIN, p.PINs.Common, CommonPINTries, FourDigitPIN, salt())
	return df, nil
}

// refreshCommonRecord returns record 1 with a new expiry and the serial and
// municipality it already holds.
func refreshCommonRecord(df *card.DF, exp time.Time) ([]byte, error) {
	f := df.File(EFCommonInfo)
	if f == nil || len(f.Records) == 0 || len(f.Records[0]) != 30 || f.Records[0][0] != 0x01 {
		return nil, fmt.Errorf("reading common record: record 1 is not 01 1C + 28 digits")
	}
	v := string(f.Records[0][2:])
	return CommonRecord(v[:15], v[15:20], exp)
}

// buildJuki returns 住基AP: the 16-byte key reference of 共通AP, the 4-digit
// PIN 001C, and one record EF of unknown content (docs/card.md §3.4), which
// the simulator fills with one 16×FF record behind the PIN.
func buildJuki(p profile.Profile, salt func() []byte) *card.DF {
	df := &card.DF{Name: "住基AP", AID: append([]byte(nil), JukiAID...)}
	df.AddRecords(EFJukiRecords, [][]byte{filler(16)}, card.NeedPIN(EFAppletPIN))
	df.AddBinary(EFKeyReference, keyReference(p), card.Free)
	df.AddPIN(EFAppletPIN, p.PINs.Resident, JukiPINTries, FourDigitPIN, salt())
	return df
}
