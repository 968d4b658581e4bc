package cardinfoclient

import (
	"errors"
	"fmt"
)

// ErrMyNumberFormat reports a My Number that is not 12 ASCII digits.
//
//lint:ignore ST1005 "My Number" is a proper noun.
var ErrMyNumberFormat = errors.New("My Number is not 12 digits")

// ErrCheckDigit reports a My Number whose last digit is not the check digit
// of the first eleven.
//
//lint:ignore ST1005 "My Number" is a proper noun.
var ErrCheckDigit = errors.New("My Number check digit wrong")

const myNumberMask = "************"

// MyNumber is an individual number (個人番号): 12 ASCII digits, the last a
// check digit. It is also 照合番号A, the key that opens text EF 0001 and the
// card-face applet (docs/card.md §3.2, §3.3), so it prints as a mask under
// every fmt verb; use string(n) for the digits.
type MyNumber string

// String returns a mask, never the digits.
func (MyNumber) String() string { return myNumberMask }

// GoString returns a mask, never the digits.
func (MyNumber) GoString() string { return "cardinfoclient.MyNumber(" + myNumberMask + ")" }

// Format prints a mask for every verb.
func (MyNumber) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(myNumberMask)) }

// MarshalText returns a mask, never the digits.
func (MyNumber) MarshalText() ([]byte, error) { return []byte(myNumberMask), nil }

// Validate checks that n is 12 ASCII digits ending in the check digit of the
// first eleven (see CheckDigit). The error never contains the number.
func (n MyNumber) Validate() error {
	if len(n) != 12 || !allDigits(string(n)) {
		return fmt.Errorf("validating My Number: %w (%d bytes)", ErrMyNumberFormat, len(n))
	}
	if want, _ := CheckDigit(string(n[:11])); int(n[11]-'0') != want {
		return fmt.Errorf("validating My Number: %w: the last digit is not the check digit of the first eleven", ErrCheckDigit)
	}
	return nil
}

// CheckDigit computes the check digit of the first eleven digits of a My
// Number by the official algorithm for the check digit (検査用数字) laid
// down by ministerial ordinance: with Pn the n-th digit counted from the
// right (n = 1..11) and Qn = n+1 for n ≤ 6, n−5 for n ≥ 7, the remainder
// r = Σ Pn×Qn mod 11 gives the check digit 11 − r, or 0 when r ≤ 1.
func CheckDigit(first11 string) (int, error) {
	if len(first11) != 11 || !allDigits(first11) {
		return 0, fmt.Errorf("computing check digit: want 11 ASCII digits, got %d bytes", len(first11))
	}
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(first11[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	if r := sum % 11; r > 1 {
		return 11 - r, nil
	}
	return 0, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MyNumberFileLen is the physical size of text EF 0001: the 15-byte TLV
// FF 10 0C + 12 digits, and two FF filler bytes (docs/card.md §3.2).
const MyNumberFileLen = 17

// ParseMyNumberFile decodes the content of text EF 0001: FF 10 0C followed by
// the 12 ASCII digits (a BER long-form private tag, docs/card.md §3.2);
// bytes after the TLV are filler and ignored. The number must pass Validate.
func ParseMyNumberFile(b []byte) (MyNumber, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return "", fmt.Errorf("parsing My Number file: %w", err)
	}
	if t.Tag != TagMyNumber {
		return "", fmt.Errorf("parsing My Number file: %w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagMyNumber)
	}
	n := MyNumber(t.Value)
	if err := n.Validate(); err != nil {
		return "", fmt.Errorf("parsing My Number file: %w", err)
	}
	return n, nil
}
