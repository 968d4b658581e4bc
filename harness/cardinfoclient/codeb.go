package cardinfoclient

import (
	"errors"
	"fmt"
	"time"
)

// Era is a Japanese era (元号). The numbers are the era codes of the JPKI
// signing certificate's birth-date field, 1 Meiji … 5 Reiwa (docs/card.md §6).
type Era int

// The eras since the adoption of the Gregorian calendar's reckoning.
const (
	Meiji  Era = 1
	Taisho Era = 2
	Showa  Era = 3
	Heisei Era = 4
	Reiwa  Era = 5
)

func (e Era) String() string {
	switch e {
	case Meiji:
		return "Meiji"
	case Taisho:
		return "Taishō"
	case Showa:
		return "Shōwa"
	case Heisei:
		return "Heisei"
	case Reiwa:
		return "Reiwa"
	}
	return fmt.Sprintf("Era(%d)", int(e))
}

// eraStarts are the first Gregorian days of each era, newest first. Meiji
// counts from 1868-01-25 (慶応4年1月1日), the day the era name was applied
// retroactively, so that all of 1868 from then on is Meiji 1.
var eraStarts = []struct {
	era     Era
	y, m, d int
}{
	{Reiwa, 2019, 5, 1},
	{Heisei, 1989, 1, 8},
	{Showa, 1926, 12, 25},
	{Taisho, 1912, 7, 30},
	{Meiji, 1868, 1, 25},
}

// ErrBeforeMeiji reports a date before the first day of Meiji.
var ErrBeforeMeiji = errors.New("date before the Meiji era")

// EraOf returns the era and era year (1 = 元年) of the calendar date of t,
// read in t's location.
func EraOf(t time.Time) (Era, int, error) {
	y, m, d := t.Date()
	day := y*10000 + int(m)*100 + d
	for _, s := range eraStarts {
		if day >= s.y*10000+s.m*100+s.d {
			return s.era, y - s.y + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("finding era of %04d-%02d-%02d: %w", y, int(m), d, ErrBeforeMeiji)
}

// EraDate renders the calendar date of t as era-year YYMMDD, the form of the
// birth date in 照合番号B and of the card-face birth-date key (docs/card.md
// §3.2, §3.3): 1990-01-02 is Heisei 2, "020102".
func EraDate(t time.Time) (string, error) {
	_, ey, err := EraOf(t)
	if err != nil {
		return "", err
	}
	if ey > 99 {
		return "", fmt.Errorf("rendering era date: era year %d has more than two digits", ey)
	}
	_, m, d := t.Date()
	return fmt.Sprintf("%02d%02d%02d", ey, int(m), d), nil
}

// CodeBLen is the length of 照合番号B.
const CodeBLen = 14

const codeBMask = "**************"

// CodeB is 照合番号B: the era-year birth date YYMMDD, the Gregorian year of
// the card's expiry YYYY and the 4-digit security code printed on the card,
// 14 digits (docs/card.md §3.2 EF 0015, §3.3 EF 0012). It opens the facts in
// text EF 0002 and the card face. It prints as a mask under every fmt verb.
type CodeB string

// String returns a mask, never the code.
func (CodeB) String() string { return codeBMask }

// GoString returns a mask, never the code.
func (CodeB) GoString() string { return "cardinfoclient.CodeB(" + codeBMask + ")" }

// Format prints a mask for every verb.
func (CodeB) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(codeBMask)) }

// MarshalText returns a mask, never the code.
func (CodeB) MarshalText() ([]byte, error) { return []byte(codeBMask), nil }

// ErrCodeBFormat reports a 照合番号B or an ingredient of one that has the
// wrong form.
var ErrCodeBFormat = errors.New("照合番号B malformed")

// Validate checks that c is 14 ASCII digits.
func (c CodeB) Validate() error {
	if len(c) != CodeBLen || !allDigits(string(c)) {
		return fmt.Errorf("validating 照合番号B: %w: want %d digits, got %d bytes", ErrCodeBFormat, CodeBLen, len(c))
	}
	return nil
}

// NewCodeB builds 照合番号B from the holder's birth date, the Gregorian year
// in which the card expires and the 4-digit security code: born 1990-01-02,
// card valid until 2036, code 5678 → "02010220365678". jpki-rs's
// YYYYMMDD form is wrong (docs/card.md §3.2); this is the era-year form that
// myna-card confirmed on a card. The error never contains the code.
func NewCodeB(birth time.Time, expiryYear int, securityCode string) (CodeB, error) {
	if len(securityCode) != 4 || !allDigits(securityCode) {
		return "", fmt.Errorf("building 照合番号B: %w: the security code is 4 digits, got %d bytes", ErrCodeBFormat, len(securityCode))
	}
	if expiryYear < 1000 || expiryYear > 9999 {
		return "", fmt.Errorf("building 照合番号B: %w: expiry year %d is not 4 digits", ErrCodeBFormat, expiryYear)
	}
	b, err := EraDate(birth)
	if err != nil {
		return "", fmt.Errorf("building 照合番号B: %w", err)
	}
	return CodeB(fmt.Sprintf("%s%04d%s", b, expiryYear, securityCode)), nil
}
