package cardinfo

import (
	"fmt"
	"slices"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// MF-level data objects answered by GET DATA with no applet selected
// (docs/card.md §3.6).
const (
	DOMunicipality uint16 = 0x00F0 // municipality code, ASCII
	DOExpiry       uint16 = 0x00F2 // card expiry YYYYMMDD
	DOATR          uint16 = 0x5F51 // contact ATR without TS
)

// EFMFOpaque is the one MF-level EF: selectable, but READ BINARY and READ
// RECORD answer 6981 (docs/card.md §3.6).
const EFMFOpaque uint16 = 0x001E

// MF fills the MF level of a card state (docs/card.md §3.6): data objects
// 00F0 (the 5-digit municipality code, as the common applet writes it; the
// format is not published), 00F2 (the card's expiry, YYYYMMDD) and 5F51 (the
// ATR without TS, as myna-card reads 5F51 on a card whose ATR is 3B E0 00 FF
// 81 31 FE 45 14; the contact ATR also behind a contactless pseudo-ATR,
// card.ContactATR), and the opaque EF 001E. Run it after st.ATR is final: an
// empty ATR stands for card.DefaultATR, which card.New will present.
func MF(st *card.State, p profile.Profile, cardExpiry time.Time) error {
	if len(p.Municipality) != 6 || !allDigits(p.Municipality) {
		return fmt.Errorf("filling MF level: municipality must be a 6-digit code")
	}
	atr := st.ATR
	if len(atr) == 0 {
		atr = card.DefaultATR
	}
	if err := card.CheckATR(atr); err != nil {
		return fmt.Errorf("filling MF level: %w", err)
	}
	if st.DataObjects == nil {
		st.DataObjects = map[uint16][]byte{}
	}
	st.DataObjects[DOMunicipality] = []byte(cityCode(p))
	st.DataObjects[DOExpiry] = []byte(ymd(cardExpiry))
	st.DataObjects[DOATR] = card.ContactATR(atr)
	if !slices.ContainsFunc(st.MFFiles, func(f *card.File) bool { return f.ID == EFMFOpaque }) {
		st.MFFiles = append(st.MFFiles, &card.File{ID: EFMFOpaque, Kind: card.Opaque, Read: card.Access{Never: true}})
	}
	return nil
}

// MF-level data objects beyond F0/F2/5F51 that GET DATA answers on real
// cards (myna-card mf.rs, found by sweeping P1-P2; its tests/fixtures hold
// 00F8 and 7F21 as read from a JPKI test card).
const (
	DOIssuerID    uint16 = 0x0042 // issuer identification number: a 16-byte key reference
	DOCardID      uint16 = 0x0045 // card identification number, ASCII
	DORecognition uint16 = 0x0066 // GlobalPlatform card recognition data
	DOChainKeyID  uint16 = 0x00F7 // key ID of the intermediate that signs 7F21
	DOChainUpper  uint16 = 0x00F8 // CV certificate: the root certifying the intermediate
	DOChainLower  uint16 = 0x7F21 // CV certificate: the intermediate certifying the issuer key
)

// FillMF fills the MF level (simcard.MFFiller): the objects of MF, and the
// card-verifiable certificate chain and identifiers the card-info keys give.
//
// 00F8 and 7F21 are GET DATA's answer as myna-card's fixtures store it: the
// content of a 7F21 template without the template (5F4E and 5F37, 563 bytes
// for RSA-2048), so both exceed a short Le and a client must retry with an
// extended Le, as myna-card's get_data does after 6700. The simulator's root
// is the text applet's CA, the intermediate the face applet's CA, the
// certified key the issuer key of EF 0004 [inf]; 00F7 is the intermediate's
// key ID. 0042 is the key reference of the common applet's EF 0002; 0045
// the 15-digit serial of the common applet's record [inf: format not
// published]; 0066 follows GlobalPlatform's card recognition data (tag 66,
// OID arc 1.2.840.114283) [inf: content not published]. Call it after the
// applets are in st.DFs.
func (a *Applets) FillMF(st *card.State, p profile.Profile, cardExpiry time.Time) error {
	if err := MF(st, p, cardExpiry); err != nil {
		return err
	}
	upper, err := CVCertificate(a.textCA, textCAKeyID, visualCAKeyID, &a.visualCA.PublicKey)
	if err != nil {
		return fmt.Errorf("filling MF level: %w", err)
	}
	lower, err := CVCertificate(a.visualCA, visualCAKeyID, issuerKeyID(p.Municipality), &a.issuer.PublicKey)
	if err != nil {
		return fmt.Errorf("filling MF level: %w", err)
	}
	serial := "000000000000000"
	if common := st.DF(CommonAID); common != nil {
		if f := common.File(EFCommonInfo); f != nil && len(f.Records) > 0 && len(f.Records[0]) == 30 {
			serial = string(f.Records[0][2:17])
		}
	}
	st.DataObjects[DOChainUpper] = untemplate(upper)
	st.DataObjects[DOChainLower] = untemplate(lower)
	st.DataObjects[DOChainKeyID] = append([]byte(nil), visualCAKeyID...)
	st.DataObjects[DOIssuerID] = keyReference(p)
	st.DataObjects[DOCardID] = []byte(serial)
	st.DataObjects[DORecognition] = recognitionData()
	return nil
}

// untemplate strips the 7F21 82 HH LL header CVCertificate writes.
func untemplate(cert []byte) []byte { return append([]byte(nil), cert[5:]...) }

// recognitionData is GlobalPlatform card recognition data (GP Card
// Specification v2.2 H.2): 66 { 73 { OID 1.2.840.114283.1, card management
// type and version (GP 2.2.1), card identification scheme, SCP02 i=55 } }.
func recognitionData() []byte {
	gp := []byte{0x2A, 0x86, 0x48, 0x86, 0xFC, 0x6B} // 1.2.840.114283
	oid := func(rest ...byte) []byte { return TLV(0x06, append(append([]byte(nil), gp...), rest...)) }
	var body []byte
	body = append(body, oid(0x01)...)
	body = append(body, TLV(0x60, oid(0x02, 0x02, 0x02, 0x01))...)
	body = append(body, TLV(0x63, oid(0x03))...)
	body = append(body, TLV(0x64, oid(0x04, 0x02, 0x55))...)
	return TLV(0x66, TLV(0x73, body))
}
