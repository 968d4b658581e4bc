// Package apdu parses command APDUs and names the status words the simulated
// card answers, following ISO/IEC 7816-4 (5.1 "Command-response pairs",
// 5.6 "Status bytes").
//
// It is the card's side of the protocol. The client side has its own,
// harness/apduclient, written independently from the same documents: were
// they one package, a misreading of ISO 7816-4 would sit on both sides of
// every exchange and no test could see it (docs/architecture.md).
package apdu

import (
	"errors"
	"fmt"
)

// Case is the ISO/IEC 7816-4 case of a command APDU (5.1, table 1).
type Case uint8

// The seven encodings of ISO/IEC 7816-4 5.1.
const (
	Case1 Case = iota + 1
	Case2Short
	Case3Short
	Case4Short
	Case2Extended
	Case3Extended
	Case4Extended
)

func (c Case) String() string {
	switch c {
	case Case1:
		return "1"
	case Case2Short:
		return "2S"
	case Case3Short:
		return "3S"
	case Case4Short:
		return "4S"
	case Case2Extended:
		return "2E"
	case Case3Extended:
		return "3E"
	case Case4Extended:
		return "4E"
	}
	return fmt.Sprintf("Case(%d)", uint8(c))
}

// Extended reports whether the command used the extended length fields.
func (c Case) Extended() bool { return c >= Case2Extended }

// Command is a parsed command APDU. Data aliases the buffer given to Parse.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Ne is the maximum number of response bytes expected: 0 when the command
	// has no Le field, 256 for a short Le of 00, 65536 for an extended Le of 0000.
	Ne   int
	Case Case
}

// HasLe reports whether the command carries an Le field.
func (c *Command) HasLe() bool {
	return c.Case == Case2Short || c.Case == Case4Short || c.Case == Case2Extended || c.Case == Case4Extended
}

// ErrMalformed is returned by Parse when the length fields disagree with the
// bytes; the card answers it with SW 6700.
var ErrMalformed = errors.New("malformed command APDU")

// Parse decodes a command APDU of any case (ISO/IEC 7816-4 5.1). It never
// panics; length fields that disagree with the buffer give ErrMalformed.
func Parse(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d-byte header", ErrMalformed, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0:
		c.Case = Case1
	case len(body) == 1:
		c.Case = Case2Short
		c.Ne = shortLe(body[0])
	case body[0] != 0:
		// Short Lc: case 3S or 4S.
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.Case = Case3Short
		case 2 + lc:
			c.Case = Case4Short
			c.Ne = shortLe(body[1+lc])
		default:
			return Command{}, fmt.Errorf("%w: short Lc %d with %d body bytes", ErrMalformed, lc, len(body))
		}
		c.Data = body[1 : 1+lc]
	default:
		// body[0] == 00 and at least 2 body bytes: extended forms.
		if len(body) == 3 {
			c.Case = Case2Extended
			c.Ne = extendedLe(body[1], body[2])
			return c, nil
		}
		if len(body) < 3 {
			return Command{}, fmt.Errorf("%w: %d-byte extended length field", ErrMalformed, len(body))
		}
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return Command{}, fmt.Errorf("%w: extended Lc of 0", ErrMalformed)
		}
		switch len(body) {
		case 3 + lc:
			c.Case = Case3Extended
		case 5 + lc:
			c.Case = Case4Extended
			c.Ne = extendedLe(body[3+lc], body[4+lc])
		default:
			return Command{}, fmt.Errorf("%w: extended Lc %d with %d body bytes", ErrMalformed, lc, len(body))
		}
		c.Data = body[3 : 3+lc]
	}
	return c, nil
}

func shortLe(b byte) int {
	if b == 0 {
		return 256
	}
	return int(b)
}

func extendedLe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return 65536
	}
	return n
}
