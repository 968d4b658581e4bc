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
// 81 31 FE 45 14), and the opaque EF 001E. Run it after st.ATR is final: an
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
	st.DataObjects[DOATR] = append([]byte(nil), atr[1:]...)
	if !slices.ContainsFunc(st.MFFiles, func(f *card.File) bool { return f.ID == EFMFOpaque }) {
		st.MFFiles = append(st.MFFiles, &card.File{ID: EFMFOpaque, Kind: card.Opaque, Read: card.Access{Never: true}})
	}
	return nil
}
