package cardinfo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// TextAID is the AID of 券面事項入力補助AP, the card-info input support
// applet (docs/card.md §2).
var TextAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}

// Files of the text applet (docs/card.md §3.2).
const (
	EFTextMyNumber  uint16 = 0x0001 // FF10: the 12-digit My Number, 17 bytes physical
	EFTextFacts     uint16 = 0x0002 // FF20: 基本4情報
	EFTextIntegrity uint16 = 0x0003 // FF30: digests of 0001/0002 and a signature, 336 bytes
	EFTextCert      uint16 = 0x0004 // 7F21: card-verifiable certificate, 568 bytes
	EFTextBasicInfo uint16 = 0x0005 // FF40: AP basic info, 256 bytes physical
	EFTextSMKey     uint16 = 0x0006 // A1: public key for secure-messaging key delivery
	EFTextSignedKey uint16 = 0x0007 // FF50: the public half of 0013, signed
	EFTextUnknown   uint16 = 0x0008 // 16×FF
	EFTextPIN       uint16 = 0x0011 // 券面入力補助用 PIN, 4 digits
	EFTextBlocked   uint16 = 0x0012 // blocked on issue: status 63C0, VERIFY 6984
	EFTextKey       uint16 = 0x0013 // the applet's own key (80 2A 00 00, no PIN)
	EFTextCodeA     uint16 = 0x0014 // 照合番号A: the My Number
	EFTextCodeB     uint16 = 0x0015 // 照合番号B: era YYMMDD + expiry YYYY + security code
)

// TextScanOnly are the text applet's EFs known only from EF scans of real
// cards (jsapdu constants.ts).
var TextScanOnly = []uint16{0x0010, 0x001C, 0x001E}

// Retry limits of the text applet. The PIN's 3 is documented (docs/card.md
// §3.2: pysim, kojinbango-card.go.jp); 照合番号B's 10 comes from
// digital.go.jp; 照合番号A's is UNCERTAIN in every source ("probably 10", §10)
// and the simulator chooses 10 as for B.
const (
	TextPINTries   = 3
	TextCodeATries = 10
	TextCodeBTries = 10
)

// PIN formats of the text applet: the PIN is 4 digits (docs/card.md §9.6);
// the codes are fixed by what is printed on the card.
var (
	TextPINFormat = card.PINFormat{Min: 4, Max: 4, Charset: card.Digits}
	CodeAFormat   = card.PINFormat{Min: 12, Max: 12, Charset: card.Digits}
	CodeBFormat   = card.PINFormat{Min: 14, Max: 14, Charset: card.Digits}
)

// MyNumberFile is EF 0001: FF 10 0C + 12 ASCII digits + FF FF, 17 bytes
// physical (docs/card.md §3.2; tex2e trace).
func MyNumberFile(myNumber string) ([]byte, error) {
	if err := profile.CheckMyNumber(myNumber); err != nil {
		return nil, fmt.Errorf("writing My Number file: %w", err)
	}
	return append(TLV(0xFF10, []byte(myNumber)), 0xFF, 0xFF), nil
}

// FactsFile is EF 0002: FF 20 { DF21 offsets, DF22 name, DF23 address, DF24
// birth date YYYYMMDD, DF25 sex }, where DF21 holds four 2-byte offsets from
// the start of the file to DF22..DF25 (docs/card.md §3.2; myna-card's test
// card: offsets 000E 0020 0059 0064 under FF 20 65).
func FactsFile(h profile.Facts) []byte {
	fields := [][]byte{
		TLV(0xDF22, []byte(h.Name)),
		TLV(0xDF23, []byte(h.Address)),
		TLV(0xDF24, []byte(ymd(h.BirthDate.Time))),
		TLV(0xDF25, sexCode(h.Sex)),
	}
	return withOffsets(0xFF20, fields)
}

// withOffsets writes tag { DF21 offsets, fields... }, the offsets counted
// from the first byte of the file to each field.
func withOffsets(tag uint16, fields [][]byte) []byte {
	inner := 0
	for _, f := range fields {
		inner += len(f)
	}
	table := make([]byte, 2*len(fields))
	inner += len(TLV(0xDF21, table))
	header := len(TLV(tag, make([]byte, inner))) - inner
	pos := header + len(TLV(0xDF21, table))
	for i, f := range fields {
		table[2*i], table[2*i+1] = byte(pos>>8), byte(pos)
		pos += len(f)
	}
	value := TLV(0xDF21, table)
	for _, f := range fields {
		value = append(value, f...)
	}
	return TLV(tag, value)
}

// factsDigestSource is what DF32 of the integrity record hashes: the value of
// EF 0002 from DF22 to its end, skipping the FF20 header and the DF21 table
// (docs/card.md §3.2; myna-card Attributes::digest_source).
func factsDigestSource(file []byte) ([]byte, error) {
	outer, _, err := Decode(file)
	if err != nil || outer.Tag != 0xFF20 {
		return nil, fmt.Errorf("reading facts file: not an FF20 object")
	}
	table, rest, err := Decode(outer.Value)
	if err != nil || table.Tag != 0xDF21 {
		return nil, fmt.Errorf("reading facts file: DF21 is not the first object")
	}
	return rest, nil
}

// IntegrityRecord is EF 0003, exactly 336 bytes: FF 30 82 01 4B { DF31
// SHA-256 of the whole physical EF 0001, DF32 SHA-256 of EF 0002 from DF22 to
// the end, DF33 82 01 00 signature }. The signature is PKCS#1 v1.5 with
// SHA-256 over the bytes the record holds before DF33, i.e. the DF31 and DF32
// objects (not the FF30 header; myna-card IntegrityRecord::signed_data), by
// the key certified in EF 0004 (docs/card.md §3.2).
func (a *Applets) IntegrityRecord(myNumberFile, factsFile []byte) ([]byte, error) {
	src, err := factsDigestSource(factsFile)
	if err != nil {
		return nil, fmt.Errorf("writing integrity record: %w", err)
	}
	d1, d2 := sha256.Sum256(myNumberFile), sha256.Sum256(src)
	signed := append(TLV(0xDF31, d1[:]), TLV(0xDF32, d2[:])...)
	sig, err := signSHA256(a.issuer, signed)
	if err != nil {
		return nil, fmt.Errorf("signing integrity record: %w", err)
	}
	return TLV(0xFF30, append(signed, TLV(0xDF33, sig)...)), nil
}

// textBasicInfo is EF 0005: FF 40 82 00 9F { DF41 04 (spec version 01,
// extended Lc/Le 03, vendor 0E, option 01), DF42 key ID, DF43 82 00 80 (32
// opaque bytes + 96×FF) }, padded with FF to 256 bytes because myna-go reads
// exactly 256 (docs/card.md §3.2). DF43's meaning is unknown; the simulator
// writes 32 random bytes.
func textBasicInfo(salt func() []byte) []byte {
	opaque := append(randomBytes(salt, 32), filler(96)...)
	obj := TLV(0xFF40, append(append(
		TLV(0xDF41, []byte{0x01, 0x03, 0x0E, 0x01}),
		TLV(0xDF42, KeyID("6000034", "001"))...),
		TLV(0xDF43, opaque)...))
	return append(obj, filler(256-len(obj))...)
}

func (a *Applets) buildText(p profile.Profile, exp time.Time, salt func() []byte) (*card.DF, error) {
	own, err := a.keys.Key()
	if err != nil {
		return nil, fmt.Errorf("drawing applet key: %w", err)
	}
	sm, err := a.keys.Key()
	if err != nil {
		return nil, fmt.Errorf("drawing secure-messaging key: %w", err)
	}
	codeB, err := CodeB(p.Holder.BirthDate.Time, exp, p.SecurityCode)
	if err != nil {
		return nil, err
	}
	df := &card.DF{Name: "券面事項入力補助AP", AID: append([]byte(nil), TextAID...), DefaultKey: EFTextKey}
	df.AddPIN(EFTextPIN, p.PINs.CardInfo, TextPINTries, TextPINFormat, salt())
	// 0012's value is never known to anyone: it is blocked from issuance.
	blocked := df.AddPIN(EFTextBlocked, hex.EncodeToString(salt()), TextPINTries, TextPINFormat, salt())
	blocked.PIN.Left = 0
	df.AddPIN(EFTextCodeA, p.MyNumber, TextCodeATries, CodeAFormat, salt()).PIN.Fixed = true
	df.AddPIN(EFTextCodeB, codeB, TextCodeBTries, CodeBFormat, salt()).PIN.Fixed = true
	df.AddKey(EFTextKey, card.NewKey(own, card.Free))
	df.AddBinary(EFTextBasicInfo, textBasicInfo(salt), card.Free)
	df.AddBinary(EFTextSMKey, TLV(0xA1, PublicKeyTLV(&sm.PublicKey)), textAny)
	df.AddBinary(EFTextUnknown, filler(16), card.Free)
	// EFs an EF scan of a real card finds (jsapdu constants.ts KENHOJO_AP_EF);
	// their content is not public: READ answers 6981 (docs/card.md).
	df.AddOpaque(TextScanOnly...)
	if err := a.writeText(df, p, exp); err != nil {
		return nil, err
	}
	return df, nil
}

// Access rules of the text applet (docs/card.md §5.3): 0001 PIN or A, 0002
// PIN or B, 0003/0006/0007 PIN or either code; 0004, 0005 and the applet key
// free.
var (
	textMyNumberRead = card.NeedPIN(EFTextPIN, EFTextCodeA)
	textFactsRead    = card.NeedPIN(EFTextPIN, EFTextCodeB)
	textAny          = card.NeedPIN(EFTextPIN, EFTextCodeA, EFTextCodeB)
)

// writeText (re)writes what depends on the profile or on the issuer key.
func (a *Applets) writeText(df *card.DF, p profile.Profile, exp time.Time) error {
	mn, err := MyNumberFile(p.MyNumber)
	if err != nil {
		return err
	}
	facts := FactsFile(p.Holder)
	integrity, err := a.IntegrityRecord(mn, facts)
	if err != nil {
		return err
	}
	cert, err := CVCertificate(a.textCA, textCAKeyID, issuerKeyID(p.Municipality), &a.issuer.PublicKey)
	if err != nil {
		return err
	}
	own, err := ownKey(df, EFTextKey)
	if err != nil {
		return err
	}
	// 0007: DF51 the public half of 0013, DF52 the issuer's signature over
	// the DF51 object (myna-card SignedPublicKey).
	pub := TLV(0xDF51, PublicKeyTLV(&own.PublicKey))
	sig, err := signSHA256(a.issuer, pub)
	if err != nil {
		return fmt.Errorf("signing applet public key: %w", err)
	}
	codeB, err := CodeB(p.Holder.BirthDate.Time, exp, p.SecurityCode)
	if err != nil {
		return err
	}
	if err := setCode(df, EFTextCodeA, p.MyNumber); err != nil {
		return err
	}
	if err := setCode(df, EFTextCodeB, codeB); err != nil {
		return err
	}
	for _, w := range []struct {
		id   uint16
		data []byte
		read card.Access
	}{
		{EFTextMyNumber, mn, textMyNumberRead},
		{EFTextFacts, facts, textFactsRead},
		{EFTextIntegrity, integrity, textAny},
		{EFTextCert, cert, card.Free},
		{EFTextSignedKey, TLV(0xFF50, append(pub, TLV(0xDF52, sig)...)), textAny},
	} {
		if err := put(df, w.id, w.data, w.read); err != nil {
			return err
		}
	}
	return nil
}
