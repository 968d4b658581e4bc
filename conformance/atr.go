package conformance

import (
	"errors"
	"fmt"
	"slices"
)

// ATR is an answer-to-reset split into its fields (ISO/IEC 7816-3 clause 8.2;
// docs/conformance-checklist.md, Background and R05).
type ATR struct {
	TS, T0     byte
	Interface  []InterfaceByte // TA1, TB1, …, in order
	Protocols  []int           // T=x announced by the TDi bytes; T=0 when there is no TD1
	Historical []byte
	TCK        byte
	HasTCK     bool
}

// InterfaceByte is one TAi/TBi/TCi/TDi byte.
type InterfaceByte struct {
	Name  string // "TA1", "TD2", …
	Value byte
}

// ErrATR marks a malformed ATR.
var ErrATR = errors.New("malformed ATR")

// ParseATR decodes atr and checks its structure: TS 3B or 3F, every announced
// byte present, and TCK present and correct (XOR of T0..TCK = 0) whenever a
// protocol other than T=0 is announced (ISO/IEC 7816-3 clause 8.2.5).
func ParseATR(atr []byte) (ATR, error) {
	var a ATR
	if len(atr) < 2 || len(atr) > 33 {
		return a, fmt.Errorf("%w: %d bytes, want 2 to 33", ErrATR, len(atr))
	}
	a.TS, a.T0 = atr[0], atr[1]
	if a.TS != 0x3B && a.TS != 0x3F {
		return a, fmt.Errorf("%w: TS %02X, want 3B or 3F", ErrATR, a.TS)
	}
	k := int(a.T0 & 0x0F)
	y := a.T0 >> 4
	i, pos := 1, 2
	for {
		for j, name := range []string{"TA", "TB", "TC", "TD"} {
			if y&(1<<j) == 0 {
				continue
			}
			if pos >= len(atr) {
				return a, fmt.Errorf("%w: %s%d announced but the ATR ends", ErrATR, name, i)
			}
			a.Interface = append(a.Interface, InterfaceByte{Name: fmt.Sprintf("%s%d", name, i), Value: atr[pos]})
			pos++
		}
		if y&0x8 == 0 {
			break
		}
		td := atr[pos-1]
		t := int(td & 0x0F)
		a.Protocols = append(a.Protocols, t)
		y = td >> 4
		i++
	}
	if len(a.Protocols) == 0 {
		a.Protocols = []int{0}
	}
	if pos+k > len(atr) {
		return a, fmt.Errorf("%w: %d historical bytes announced, %d present", ErrATR, k, len(atr)-pos)
	}
	a.Historical = atr[pos : pos+k]
	err := a.checkTCK(atr, pos+k)
	return a, err
}

// checkTCK checks the check byte after the historical bytes, which end at
// pos: present and making the XOR of T0..TCK zero when a protocol other
// than T=0 is announced, absent otherwise (ISO/IEC 7816-3 clause 8.2.5).
func (a *ATR) checkTCK(atr []byte, pos int) error {
	onlyT0 := !slices.ContainsFunc(a.Protocols, func(t int) bool { return t != 0 })
	switch {
	case !onlyT0:
		if pos != len(atr)-1 {
			return fmt.Errorf("%w: TCK required (a protocol other than T=0 is announced) but %d bytes follow the historical bytes", ErrATR, len(atr)-pos)
		}
		a.TCK, a.HasTCK = atr[pos], true
		var x byte
		for _, b := range atr[1:] {
			x ^= b
		}
		if x != 0 {
			return fmt.Errorf("%w: TCK %02X does not check (XOR of T0..TCK is %02X)", ErrATR, a.TCK, x)
		}
	case pos != len(atr):
		return fmt.Errorf("%w: %d unexpected bytes after the historical bytes", ErrATR, len(atr)-pos)
	}
	return nil
}

// Offers reports whether the ATR announces protocol T=t.
func (a ATR) Offers(t int) bool {
	for _, p := range a.Protocols {
		if p == t {
			return true
		}
	}
	return false
}

// Contactless reports whether the ATR is one a PC/SC part 3 contactless
// reader synthesises: 3B 8n 80 01 … (docs/conformance-checklist.md, Background; OpenSC #3744).
func (a ATR) Contactless() bool {
	return a.TS == 0x3B && a.T0&0xF0 == 0x80 && len(a.Interface) >= 2 &&
		a.Interface[0].Value == 0x80 && a.Interface[1].Value == 0x01
}

// knownJPKIATRs are the My Number Card ATRs named in docs/conformance-checklist.md, Background.
var knownJPKIATRs = []string{
	"3B E0 00 FF 81 31 FE 45 14",
	"3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B",
	"3B C5 FF 81 31 FB 45 80 73 C6 01 00 00",
}
