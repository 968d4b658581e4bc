package jpkiclient

import (
	"errors"
	"fmt"
)

// ErrDERTruncated reports a DER header cut short: more bytes are needed.
var ErrDERTruncated = errors.New("DER header truncated")

// ErrDERInvalid reports a tag or length field that is not valid DER.
var ErrDERInvalid = errors.New("invalid DER header")

// DERHeader is the identifier and length octets of a DER TLV (ITU-T X.690
// clauses 8.1.2, 8.1.3 and 10.1).
type DERHeader struct {
	Class       int  // 0 universal, 1 application, 2 context-specific, 3 private
	Constructed bool // bit 6 of the first identifier octet
	Tag         int  // tag number
	HeaderLen   int  // identifier + length octets
	Length      int  // content octets
}

// TotalLen is the length of the whole TLV.
func (h DERHeader) TotalLen() int { return h.HeaderLen + h.Length }

// maxDERLength bounds the lengths ParseDERHeader accepts, so that TotalLen
// cannot overflow an int on any platform.
const maxDERLength = 1<<31 - 1 - 16

// ParseDERHeader parses the tag and length at the start of b. It accepts
// high-tag-number identifiers (X.690 8.1.2.4) and definite lengths of up to
// four octets, and rejects what DER forbids: the indefinite form, the
// reserved length octet FF, long-form lengths below 128 or with a leading
// zero octet (10.1), and tag numbers not encoded in the fewest octets.
// It returns ErrDERTruncated when b ends inside the header.
func ParseDERHeader(b []byte) (DERHeader, error) {
	if len(b) == 0 {
		return DERHeader{}, ErrDERTruncated
	}
	h := DERHeader{Class: int(b[0] >> 6), Constructed: b[0]&0x20 != 0, Tag: int(b[0] & 0x1F)}
	i := 1
	if h.Tag == 0x1F {
		h.Tag = 0
		for n := 0; ; n++ {
			if i >= len(b) {
				return DERHeader{}, ErrDERTruncated
			}
			c := b[i]
			i++
			if n == 0 && c == 0x80 {
				return DERHeader{}, fmt.Errorf("%w: tag number with a leading zero octet", ErrDERInvalid)
			}
			if n == 3 {
				return DERHeader{}, fmt.Errorf("%w: tag number longer than 3 octets", ErrDERInvalid)
			}
			h.Tag = h.Tag<<7 | int(c&0x7F)
			if c&0x80 == 0 {
				break
			}
		}
		if h.Tag < 0x1F {
			return DERHeader{}, fmt.Errorf("%w: tag number %d in high-tag-number form", ErrDERInvalid, h.Tag)
		}
	}
	if i >= len(b) {
		return DERHeader{}, ErrDERTruncated
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		h.Length = int(l)
	case l == 0x80:
		return DERHeader{}, fmt.Errorf("%w: indefinite length", ErrDERInvalid)
	case l == 0xFF:
		return DERHeader{}, fmt.Errorf("%w: reserved length octet FF", ErrDERInvalid)
	default:
		n := int(l & 0x7F)
		if n > 4 {
			return DERHeader{}, fmt.Errorf("%w: %d length octets", ErrDERInvalid, n)
		}
		if i+n > len(b) {
			return DERHeader{}, ErrDERTruncated
		}
		if b[i] == 0 {
			return DERHeader{}, fmt.Errorf("%w: length with a leading zero octet", ErrDERInvalid)
		}
		var v uint64
		for _, c := range b[i : i+n] {
			v = v<<8 | uint64(c)
		}
		i += n
		if v < 0x80 {
			return DERHeader{}, fmt.Errorf("%w: long-form length %d below 128", ErrDERInvalid, v)
		}
		if v > maxDERLength {
			return DERHeader{}, fmt.Errorf("%w: length %d too large", ErrDERInvalid, v)
		}
		h.Length = int(v)
	}
	h.HeaderLen = i
	return h, nil
}
