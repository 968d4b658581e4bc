package jpkiclient

import (
	"errors"
	"fmt"
	"strings"
)

// PIN is a PIN value. It prints as "****" under every fmt verb, as JSON and
// as text, so a PIN passed around a test cannot end up in a log or a report.
// The bytes sent to the card are exactly the string's bytes: the client does
// not upper-case or otherwise normalise them (myna does; a harness must be
// able to send what the card should refuse).
type PIN string

const pinMask = "****"

// String returns a mask, never the PIN.
func (PIN) String() string { return pinMask }

// GoString returns a mask, never the PIN.
func (PIN) GoString() string { return "jpkiclient.PIN(" + pinMask + ")" }

// Format prints a mask for every verb, %x and %q included.
func (PIN) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(pinMask)) }

// MarshalText returns a mask, never the PIN.
func (PIN) MarshalText() ([]byte, error) { return []byte(pinMask), nil }

// ErrEmptyPIN is returned for an empty PIN. An empty VERIFY is the tries-left
// query (docs/card.md §4.1), so sending it for a PIN would "succeed" as a
// status query; OpenSC refuses it locally for the same reason.
var ErrEmptyPIN = errors.New("empty PIN")

// ErrPINFormat reports a PIN that the card's rules forbid (see ValidatePIN).
var ErrPINFormat = errors.New("PIN format not accepted by the card")

const (
	digits     = "0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + digits
)

// ValidatePIN checks value against the rules of docs/card.md §3.1 (OSC-p15):
// the auth PIN is exactly 4 digits, the sign PIN 6–16 characters of A–Z and
// 0–9. VerifyPIN and ChangePIN do not call it, so that suites can send
// malformed PINs to the card on purpose; call it where a well-formed PIN is
// a precondition.
func ValidatePIN(ref PINRef, value PIN) error {
	switch ref {
	case AuthPIN:
		if len(value) != 4 || strings.Trim(string(value), digits) != "" {
			return fmt.Errorf("%w: the auth PIN is 4 digits", ErrPINFormat)
		}
	case SignPIN:
		if len(value) < 6 || len(value) > 16 || strings.Trim(string(value), upperAlnum) != "" {
			return fmt.Errorf("%w: the sign PIN is 6 to 16 characters of A-Z and 0-9", ErrPINFormat)
		}
	default:
		return fmt.Errorf("validating PIN: unknown PIN reference %d", int(ref))
	}
	return nil
}
