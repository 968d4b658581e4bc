package cardinfo

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// VisualAID is the AID of 券面AP (券面事項確認AP), the card-face applet
// (docs/card.md §2).
var VisualAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02}

// Files of the face applet (docs/card.md §3.3).
const (
	EFVisualAge       uint16 = 0x0001 // FF10: birth date, public key, signature
	EFVisualFace      uint16 = 0x0002 // FF20: the card face
	EFVisualBasicInfo uint16 = 0x0003 // FF30: AP basic info
	EFVisualCert      uint16 = 0x0004 // 7F21: card-verifiable certificate
	EFVisualMyNumber  uint16 = 0x0005 // FF40: My Number image, public key, signature
	EFVisualUnknown   uint16 = 0x0006 // 16×FF
	EFVisualBirthKey  uint16 = 0x0011 // birth date, era YYMMDD
	EFVisualCodeB     uint16 = 0x0012 // 照合番号B
	EFVisualCodeA     uint16 = 0x0013 // 照合番号A
	// EFVisualKey is the applet's own key (80 2A 00 00, no PIN), whose public
	// half the records carry in DF12/DF24/DF42. Its EF number is not
	// published; 001A is among the unexplained EFs jsapdu found (§3.3), so
	// the simulator puts it there.
	EFVisualKey uint16 = 0x001A
)

// VisualScanOnly are the face applet's EFs known only from EF scans of real
// cards (jsapdu constants.ts KENKAKU_AP_EF); READ answers 6981 (docs/card.md).
var VisualScanOnly = []uint16{0x001C, 0x001E}

// Retry limits of the face applet. 照合番号B's 10 follows digital.go.jp
// (pysim says 3; UNCERTAIN, docs/card.md §10); A and the birth-date key have
// no published figure and the simulator chooses 10 for both.
const (
	VisualBirthTries = 10
	VisualCodeBTries = 10
	VisualCodeATries = 10
)

// BirthKeyFormat is the birth-date key: 6 digits.
var BirthKeyFormat = card.PINFormat{Min: 6, Max: 6, Charset: card.Digits}

// Access rules of the face applet (docs/card.md §5.4): 0001 the birth-date
// key; 0002 and 0006 A or B; 0005 A only; 0003 and 0004 free (§3.3, and
// myna-card reads them with nothing presented).
var (
	visualAgeRead = card.NeedPIN(EFVisualBirthKey)
	visualAorB    = card.NeedPIN(EFVisualCodeA, EFVisualCodeB)
	visualAOnly   = card.NeedPIN(EFVisualCodeA)
)

// Photo size of the simulated face photograph, in pixels.
const photoW, photoH = 48, 60

// AgeRecord is EF 0001: FF 10 82 02 1E { DF11 birth date YYYYMMDD, DF12 the
// applet's public key, DF13 signature over DF11 and DF12 as written }
// (docs/card.md §3.3; myna-card AgeRecord).
func (a *Applets) AgeRecord(birth time.Time, pub *rsa.PublicKey) ([]byte, error) {
	signed := append(TLV(0xDF11, []byte(ymd(birth))), TLV(0xDF12, PublicKeyTLV(pub))...)
	sig, err := signSHA256(a.issuer, signed)
	if err != nil {
		return nil, fmt.Errorf("signing age record: %w", err)
	}
	return TLV(0xFF10, append(signed, TLV(0xDF13, sig)...)), nil
}

// FaceSegments returns the three groups of card-face objects DF28 signs:
// DF22–DF24, DF25–DF26 and DF27, each as written (docs/card.md §3.3).
func FaceSegments(face []byte) ([3][]byte, error) {
	var seg [3][]byte
	outer, _, err := Decode(face)
	if err != nil || outer.Tag != 0xFF20 {
		return seg, fmt.Errorf("reading card face: not an FF20 object")
	}
	objs, err := DecodeAll(outer.Value)
	if err != nil {
		return seg, fmt.Errorf("reading card face: %w", err)
	}
	group := map[uint32]int{0xDF22: 0, 0xDF23: 0, 0xDF24: 0, 0xDF25: 1, 0xDF26: 1, 0xDF27: 2}
	for _, o := range objs {
		if g, ok := group[o.Tag]; ok {
			seg[g] = append(seg[g], o.Raw...)
		}
	}
	return seg, nil
}

// FaceDigestInfo is what DF28 signs with PKCS#1 v1.5: a SHA-256 DigestInfo
// whose OCTET STRING holds the three segment digests one after the other (96
// bytes; myna-card sha256_digest_info: "the card face record … puts three
// concatenated SHA-256 digests in one DigestInfo").
func FaceDigestInfo(seg [3][]byte) []byte {
	var d []byte
	for _, s := range seg {
		h := sha256.Sum256(s)
		d = append(d, h[:]...)
	}
	algo := []byte{0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00}
	inner := append(append([]byte(nil), algo...), 0x04, byte(len(d)))
	inner = append(inner, d...)
	out := []byte{0x30}
	if len(inner) >= 0x80 {
		out = append(out, 0x81)
	}
	return append(append(out, byte(len(inner))), inner...)
}

// CardFace is EF 0002: FF 20 82 HH LL { DF21 offsets of the nine objects
// below, DF22 birth date, DF23 sex, DF24 the applet's public key, DF25 name
// image, DF26 address image, DF27 photo, DF28 signature over the three
// segments, DF29 expiry YYYYMMDD, DF2A security-code image } (docs/card.md
// §3.3). DF29 and DF2A lie outside the signature.
func (a *Applets) CardFace(p profile.Profile, exp time.Time, pub *rsa.PublicKey) ([]byte, error) {
	h := p.Holder
	signed := [][]byte{
		TLV(0xDF22, []byte(ymd(h.BirthDate.Time))),
		TLV(0xDF23, sexCode(h.Sex)),
		TLV(0xDF24, PublicKeyTLV(pub)),
		TLV(0xDF25, TextPNG(h.Name)),
		TLV(0xDF26, TextPNG(h.Address)),
		TLV(0xDF27, PhotoJP2(photoW, photoH)),
	}
	seg := [3][]byte{
		append(append(append([]byte(nil), signed[0]...), signed[1]...), signed[2]...),
		append(append([]byte(nil), signed[3]...), signed[4]...),
		signed[5],
	}
	sig, err := rsa.SignPKCS1v15(nil, a.issuer, crypto.Hash(0), FaceDigestInfo(seg))
	if err != nil {
		return nil, fmt.Errorf("signing card face: %w", err)
	}
	fields := append(signed,
		TLV(0xDF28, sig),
		TLV(0xDF29, []byte(ymd(exp))),
		TLV(0xDF2A, TextPNG(p.SecurityCode)))
	return withOffsets(0xFF20, fields), nil
}

// MyNumberImage is EF 0005: FF 40 { DF41 PNG of the My Number, DF42 the
// applet's public key, DF43 signature over DF41 and DF42 as written }
// (docs/card.md §3.3; myna-card MyNumberImage).
func (a *Applets) MyNumberImage(myNumber string, pub *rsa.PublicKey) ([]byte, error) {
	signed := append(TLV(0xDF41, TextPNG(myNumber)), TLV(0xDF42, PublicKeyTLV(pub))...)
	sig, err := signSHA256(a.issuer, signed)
	if err != nil {
		return nil, fmt.Errorf("signing My Number image: %w", err)
	}
	return TLV(0xFF40, append(signed, TLV(0xDF43, sig)...)), nil
}

// visualBasicInfo is EF 0003: FF 30 { DF31 04 layout 06 03 0E 01, DF32 key
// ID, DF33 01 version, DF34 05 municipality code, DF35 82 01 10 (16-byte
// reference + 256 opaque bytes) } (docs/card.md §3.3). DF35's meaning is
// unknown; the simulator writes random bytes, since 0003 is free to read.
func visualBasicInfo(p profile.Profile, salt func() []byte) []byte {
	df35 := append(KeyID("6000025", "001"), randomBytes(salt, 256)...)
	return TLV(0xFF30, concat(
		TLV(0xDF31, []byte{0x06, 0x03, 0x0E, 0x01}),
		TLV(0xDF32, KeyID("6000024", "001")),
		TLV(0xDF33, []byte{0x01}),
		TLV(0xDF34, []byte(cityCode(p))),
		TLV(0xDF35, df35),
	))
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (a *Applets) buildVisual(p profile.Profile, exp time.Time, salt func() []byte) (*card.DF, error) {
	own, err := a.keys.Key()
	if err != nil {
		return nil, fmt.Errorf("drawing applet key: %w", err)
	}
	birth, err := EraDate(p.Holder.BirthDate.Time)
	if err != nil {
		return nil, err
	}
	codeB, err := CodeB(p.Holder.BirthDate.Time, exp, p.SecurityCode)
	if err != nil {
		return nil, err
	}
	df := &card.DF{Name: "券面AP", AID: append([]byte(nil), VisualAID...), DefaultKey: EFVisualKey}
	df.AddPIN(EFVisualBirthKey, birth, VisualBirthTries, BirthKeyFormat, salt()).PIN.Fixed = true
	df.AddPIN(EFVisualCodeB, codeB, VisualCodeBTries, CodeBFormat, salt()).PIN.Fixed = true
	df.AddPIN(EFVisualCodeA, p.MyNumber, VisualCodeATries, CodeAFormat, salt()).PIN.Fixed = true
	df.AddKey(EFVisualKey, card.NewKey(own, card.Free))
	df.AddBinary(EFVisualBasicInfo, visualBasicInfo(p, salt), card.Free)
	df.AddBinary(EFVisualUnknown, filler(16), visualAorB)
	df.AddOpaque(VisualScanOnly...)
	if err := a.writeVisual(df, p, exp); err != nil {
		return nil, err
	}
	return df, nil
}

// writeVisual (re)writes what depends on the profile or on the issuer key.
func (a *Applets) writeVisual(df *card.DF, p profile.Profile, exp time.Time) error {
	own, err := ownKey(df, EFVisualKey)
	if err != nil {
		return err
	}
	pub := &own.PublicKey
	age, err := a.AgeRecord(p.Holder.BirthDate.Time, pub)
	if err != nil {
		return err
	}
	face, err := a.CardFace(p, exp, pub)
	if err != nil {
		return err
	}
	img, err := a.MyNumberImage(p.MyNumber, pub)
	if err != nil {
		return err
	}
	cert, err := CVCertificate(a.visualCA, visualCAKeyID, issuerKeyID(p.Municipality), &a.issuer.PublicKey)
	if err != nil {
		return err
	}
	birth, err := EraDate(p.Holder.BirthDate.Time)
	if err != nil {
		return err
	}
	codeB, err := CodeB(p.Holder.BirthDate.Time, exp, p.SecurityCode)
	if err != nil {
		return err
	}
	for id, v := range map[uint16]string{EFVisualBirthKey: birth, EFVisualCodeB: codeB, EFVisualCodeA: p.MyNumber} {
		if err := setCode(df, id, v); err != nil {
			return err
		}
	}
	for _, w := range []struct {
		id   uint16
		data []byte
		read card.Access
	}{
		{EFVisualAge, age, visualAgeRead},
		{EFVisualFace, face, visualAorB},
		{EFVisualCert, cert, card.Free},
		{EFVisualMyNumber, img, visualAOnly},
	} {
		if err := put(df, w.id, w.data, w.read); err != nil {
			return err
		}
	}
	return nil
}
