package apduclient

import (
	"errors"
	"fmt"
)

// Limits of the length fields, ISO/IEC 7816-4 clause 5.1 ("Command APDU").
const (
	MaxShortNc    = 255   // longest data field a short Lc can announce
	MaxShortNe    = 256   // largest Ne a short Le can ask for (Le = 00)
	MaxExtendedNc = 65535 // longest data field an extended Lc can announce
	MaxExtendedNe = 65536 // largest Ne an extended Le can ask for (Le = 0000)
)

// ErrMalformedCommand reports a byte string that is not a valid command APDU
// under the decoding rules of ISO/IEC 7816-4 clause 5.1.
var ErrMalformedCommand = errors.New("malformed command APDU")

// Case is the command-response case of ISO/IEC 7816-4 clause 5.1: whether a
// command carries a data field (Lc) and whether it asks for response data (Le).
type Case uint8

// The four cases. Short or extended form is a property of the encoding, not
// of the case; see Command.IsExtended.
const (
	Case1 Case = 1 // no data, no response data
	Case2 Case = 2 // no data, response data expected
	Case3 Case = 3 // data, no response data
	Case4 Case = 4 // data, response data expected
)

// Command is a command APDU, ISO/IEC 7816-4 clause 5.1.
//
// Ne is the maximum number of response bytes expected, not the encoded Le
// byte: 0 means the Le field is absent, 256 is encoded as short Le = 00 and
// 65536 as extended Le = 0000. Data of up to 255 bytes and Ne up to 256 are
// encoded in short form unless Extended is set; larger values force the
// extended form (both Lc and Le then use it, as clause 5.1 requires).
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
	Extended         bool
}

// Case reports which of the four command-response cases c is.
func (c Command) Case() Case {
	switch {
	case len(c.Data) == 0 && c.Ne == 0:
		return Case1
	case len(c.Data) == 0:
		return Case2
	case c.Ne == 0:
		return Case3
	default:
		return Case4
	}
}

// IsExtended reports whether c is encoded with extended length fields.
func (c Command) IsExtended() bool {
	return c.Extended || len(c.Data) > MaxShortNc || c.Ne > MaxShortNe
}

// Len returns the length of c's encoding, or an error if c cannot be encoded.
func (c Command) Len() (int, error) {
	if err := c.validate(); err != nil {
		return 0, err
	}
	n := 4
	ext := c.IsExtended()
	if len(c.Data) > 0 {
		n += len(c.Data) + 1
		if ext {
			n += 2
		}
	}
	if c.Ne > 0 {
		switch {
		case !ext:
			n++
		case len(c.Data) > 0:
			n += 2
		default:
			n += 3
		}
	}
	return n, nil
}

func (c Command) validate() error {
	if len(c.Data) > MaxExtendedNc {
		return fmt.Errorf("encoding command APDU: data field of %d bytes exceeds %d", len(c.Data), MaxExtendedNc)
	}
	if c.Ne < 0 || c.Ne > MaxExtendedNe {
		return fmt.Errorf("encoding command APDU: Ne %d outside 0..%d", c.Ne, MaxExtendedNe)
	}
	return nil
}

// Bytes encodes c.
func (c Command) Bytes() ([]byte, error) {
	n, err := c.Len()
	if err != nil {
		return nil, err
	}
	return c.AppendTo(make([]byte, 0, n))
}

// AppendTo appends the encoding of c to dst, so that a caller can reuse one
// buffer for every command it sends.
func (c Command) AppendTo(dst []byte) ([]byte, error) {
	if err := c.validate(); err != nil {
		return dst, err
	}
	dst = append(dst, c.CLA, c.INS, c.P1, c.P2)
	ext := c.IsExtended()
	if nc := len(c.Data); nc > 0 {
		if ext {
			dst = append(dst, 0, byte(nc>>8), byte(nc))
		} else {
			dst = append(dst, byte(nc))
		}
		dst = append(dst, c.Data...)
	}
	if c.Ne > 0 {
		switch {
		case !ext:
			dst = append(dst, byte(c.Ne)) // 256 wraps to 00
		case len(c.Data) > 0:
			dst = append(dst, byte(c.Ne>>8), byte(c.Ne)) // 65536 wraps to 0000
		default:
			dst = append(dst, 0, byte(c.Ne>>8), byte(c.Ne))
		}
	}
	return dst, nil
}

// String renders c in hex, header first, for logs and failure messages.
// It does not mask PIN data; use the trace package for anything logged.
func (c Command) String() string {
	b, err := c.Bytes()
	if err != nil {
		return fmt.Sprintf("<invalid APDU: %v>", err)
	}
	return fmt.Sprintf("% X", b)
}

// ParseCommand decodes a command APDU by the rules of ISO/IEC 7816-4
// clause 5.1: the body after the 4-byte header is empty (case 1), one byte Le
// (case 2S), 00 + two bytes Le (case 2E), Lc + data [+ Le] (cases 3S/4S) or
// 00 + two bytes Lc + data [+ two bytes Le] (cases 3E/4E).
// The returned Data aliases b.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes, want at least 4", ErrMalformedCommand, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0:
		return c, nil
	case len(body) == 1:
		c.Ne = int(body[0])
		if c.Ne == 0 {
			c.Ne = MaxShortNe
		}
		return c, nil
	case body[0] != 0:
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
			c.Data = body[1:]
		case 2 + nc:
			c.Data = body[1 : 1+nc]
			c.Ne = int(body[1+nc])
			if c.Ne == 0 {
				c.Ne = MaxShortNe
			}
		default:
			return Command{}, fmt.Errorf("%w: short Lc %d does not fit a body of %d bytes", ErrMalformedCommand, nc, len(body))
		}
		return c, nil
	case len(body) == 3:
		c.Extended = true
		c.Ne = int(body[1])<<8 | int(body[2])
		if c.Ne == 0 {
			c.Ne = MaxExtendedNe
		}
		return c, nil
	case len(body) < 3:
		return Command{}, fmt.Errorf("%w: truncated extended length field", ErrMalformedCommand)
	}
	c.Extended = true
	nc := int(body[1])<<8 | int(body[2])
	if nc == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of 0", ErrMalformedCommand)
	}
	switch len(body) {
	case 3 + nc:
		c.Data = body[3:]
	case 5 + nc:
		c.Data = body[3 : 3+nc]
		c.Ne = int(body[3+nc])<<8 | int(body[4+nc])
		if c.Ne == 0 {
			c.Ne = MaxExtendedNe
		}
	default:
		return Command{}, fmt.Errorf("%w: extended Lc %d does not fit a body of %d bytes", ErrMalformedCommand, nc, len(body))
	}
	return c, nil
}
