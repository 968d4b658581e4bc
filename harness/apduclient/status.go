package apduclient

import (
	"errors"
	"fmt"
)

// SWSuccess is the status word of normal processing, ISO/IEC 7816-4 clause 5.6.
const SWSuccess uint16 = 0x9000

// ErrMalformedResponse reports a response APDU shorter than its two status bytes.
var ErrMalformedResponse = errors.New("malformed response APDU")

// Response is a response APDU split into its data field and status word
// (ISO/IEC 7816-4 clause 5.2: "Response APDU").
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits b into data and SW1-SW2. Data aliases b, so parsing
// never allocates.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: %d bytes, want at least SW1 SW2", ErrMalformedResponse, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Err returns nil for 9000 and the typed status error otherwise (see CheckSW).
func (r Response) Err() error { return CheckSW(r.SW) }

// Check parses b and returns its data field, or the status error when the
// status word is not 9000. The data is returned in both cases, since some
// callers want to see what a failing card sent.
func Check(b []byte) ([]byte, error) {
	r, err := ParseResponse(b)
	if err != nil {
		return nil, err
	}
	return r.Data, r.Err()
}

// CheckSW returns nil for 9000, a *WrongPINError for 63Cx (which wraps the
// *StatusError) and a *StatusError for every other status word.
// Warnings (62xx, 63xx other than 63Cx) and 61xx are errors too: the JPKI
// card never sends them (docs/card.md §7) and clients such as myna treat any
// non-9000 as failure.
func CheckSW(sw uint16) error {
	switch {
	case sw == SWSuccess:
		return nil
	case sw&0xFFF0 == 0x63C0:
		return &WrongPINError{TriesLeft: int(sw & 0x000F)}
	default:
		return &StatusError{SW: sw}
	}
}

// StatusError is a status word other than 9000, ISO/IEC 7816-4 clause 5.6.
// errors.Is matches it against another *StatusError with the same SW and
// against the sentinels of this package (ErrWrongPIN, ErrFileNotFound, …).
type StatusError struct {
	SW uint16
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("card returned SW %04X (%s)", e.SW, Describe(e.SW))
}

// Is reports whether target is a *StatusError with the same SW or a sentinel
// whose status-word class contains e.SW.
func (e *StatusError) Is(target error) bool {
	switch t := target.(type) {
	case *StatusError:
		return t.SW == e.SW
	case *statusClass:
		return t.match(e.SW)
	}
	return false
}

// WrongPINError is 63Cx: "verification failed, x further retries allowed"
// (ISO/IEC 7816-4 clause 5.6, table 6; docs/card.md §4.6). The JPKI card also
// answers 63Cx to an empty VERIFY, which queries the counter; 63C0 is the
// answer to the attempt that blocked the PIN and to later queries.
// It unwraps to the *StatusError, so errors.Is(err, ErrWrongPIN) and
// errors.As(err, &statusErr) both work.
type WrongPINError struct {
	TriesLeft int
}

func (e *WrongPINError) Error() string {
	if e.TriesLeft == 0 {
		return fmt.Sprintf("wrong PIN, no tries left: PIN blocked (SW %04X)", e.SW())
	}
	return fmt.Sprintf("wrong PIN, %s left (SW %04X)", tries(e.TriesLeft), e.SW())
}

// SW returns the status word 63Cx.
func (e *WrongPINError) SW() uint16 { return 0x63C0 | uint16(e.TriesLeft&0x0F) }

// Unwrap returns the underlying *StatusError.
func (e *WrongPINError) Unwrap() error { return &StatusError{SW: e.SW()} }

func tries(n int) string {
	if n == 1 {
		return "1 try"
	}
	return fmt.Sprintf("%d tries", n)
}

// StatusOf returns the status word carried by err (anywhere in its chain)
// and whether there is one.
func StatusOf(err error) (uint16, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.SW, true
	}
	return 0, false
}

// statusClass is a sentinel that matches a set of status words.
type statusClass struct {
	msg   string
	match func(sw uint16) bool
}

func (c *statusClass) Error() string { return c.msg }

func exactly(sw uint16, msg string) error {
	return &statusClass{msg: fmt.Sprintf("%s (SW %04X)", msg, sw), match: func(got uint16) bool { return got == sw }}
}

// Sentinels for errors.Is. Each names the ISO/IEC 7816-4 clause 5.6 meaning;
// the comment says where the JPKI card uses it (docs/card.md §4.6).
var (
	// ErrWrongPIN matches any 63Cx: wrong PIN, or the answer to a
	// tries-left query. Use errors.As with *WrongPINError for the count.
	ErrWrongPIN error = &statusClass{msg: "wrong PIN (SW 63Cx)", match: func(sw uint16) bool { return sw&0xFFF0 == 0x63C0 }}
	// ErrPINBlocked matches every way the card says a PIN can no longer be
	// tried: 63C0 (the attempt that blocked it), 6983 and 6984.
	ErrPINBlocked error = &statusClass{msg: "PIN blocked (SW 63C0, 6983 or 6984)", match: func(sw uint16) bool {
		return sw == 0x63C0 || sw == 0x6983 || sw == 0x6984
	}}

	ErrWrongLength                = exactly(0x6700, "wrong length")
	ErrIncompatibleFileStructure  = exactly(0x6981, "command incompatible with file structure") // reading an internal EF
	ErrSecurityStatusNotSatisfied = exactly(0x6982, "security status not satisfied")            // EF 0001 or a key without its PIN
	ErrAuthMethodBlocked          = exactly(0x6983, "authentication method blocked")
	ErrRefDataNotUsable           = exactly(0x6984, "reference data not usable") // VERIFY after the PIN blocked
	ErrConditionsNotSatisfied     = exactly(0x6985, "conditions of use not satisfied")
	ErrWrongData                  = exactly(0x6A80, "incorrect parameters in the command data field")
	ErrFileNotFound               = exactly(0x6A82, "file or application not found")
	ErrIncorrectP1P2              = exactly(0x6A86, "incorrect parameters P1-P2")
	ErrDataNotFound               = exactly(0x6A88, "referenced data not found")
	ErrWrongOffset                = exactly(0x6B00, "wrong parameters P1-P2: offset outside the EF") // READ BINARY at or past EOF
	ErrINSNotSupported            = exactly(0x6D00, "instruction code not supported")
	ErrCLANotSupported            = exactly(0x6E00, "class not supported")
)

// Describe returns the ISO/IEC 7816-4 meaning of a status word, for messages.
func Describe(sw uint16) string {
	switch {
	case sw == SWSuccess:
		return "success"
	case sw&0xFFF0 == 0x63C0:
		return fmt.Sprintf("verification failed, %s left", tries(int(sw&0x0F)))
	case sw&0xFF00 == 0x6100:
		return fmt.Sprintf("%d response bytes still available", sw&0xFF)
	case sw&0xFF00 == 0x6C00:
		return fmt.Sprintf("wrong Le, %d bytes available", sw&0xFF)
	}
	if s, ok := descriptions[sw]; ok {
		return s
	}
	return "unknown status"
}

var descriptions = map[uint16]string{
	0x6282: "end of file reached before Ne bytes",
	0x6700: "wrong length",
	0x6881: "logical channel not supported",
	0x6882: "secure messaging not supported",
	0x6981: "command incompatible with file structure",
	0x6982: "security status not satisfied",
	0x6983: "authentication method blocked",
	0x6984: "reference data not usable",
	0x6985: "conditions of use not satisfied",
	0x6986: "command not allowed, no current EF",
	0x6A80: "incorrect parameters in the command data field",
	0x6A81: "function not supported",
	0x6A82: "file or application not found",
	0x6A86: "incorrect parameters P1-P2",
	0x6A88: "referenced data not found",
	0x6B00: "wrong parameters P1-P2",
	0x6D00: "instruction code not supported",
	0x6E00: "class not supported",
	0x6F00: "no precise diagnosis",
}
