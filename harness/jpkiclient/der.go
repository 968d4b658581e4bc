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
	h := DERHeader{Class: int(b[0] >> 6), Constructed: b[0]&0x20 != 0}
	tag, i, err := parseDERTag(b)
	if err != nil {
		return DERHeader{}, err
	}
	length, n, err := parseDERLength(b[i:])
	if err != nil {
		return DERHeader{}, err
	}
	h.Tag, h.Length, h.HeaderLen = tag, length, i+n
	return h, nil
}

// parseDERTag reads the tag number of the identifier octets at the start
// of b (X.690 8.1.2), and how many octets it took.
func parseDERTag(b []byte) (tag, n int, err error) {
	if tag = int(b[0] & 0x1F); tag != 0x1F {
		return tag, 1, nil
	}
	tag, i := 0, 1
	for k := 0; ; k++ {
		if i >= len(b) {
			return 0, 0, ErrDERTruncated
		}
		c := b[i]
		i++
		if k == 0 && c == 0x80 {
			return 0, 0, fmt.Errorf("%w: tag number with a leading zero octet", ErrDERInvalid)
		}
		if k == 3 {
			return 0, 0, fmt.Errorf("%w: tag number longer than 3 octets", ErrDERInvalid)
		}
		tag = tag<<7 | int(c&0x7F)
		if c&0x80 == 0 {
			break
		}
	}
	if tag < 0x1F {
		return 0, 0, fmt.Errorf("%w: tag number %d in high-tag-number form", ErrDERInvalid, tag)
	}
	return tag, i, nil
}

// parseDERLength reads the length octets at the start of b (X.690 8.1.3,
// 10.1), and how many octets they took.
func parseDERLength(b []byte) (length, n int, err error) {
	if len(b) == 0 {
		return 0, 0, ErrDERTruncated
	}
	l := b[0]
	switch {
	case l < 0x80:
		return int(l), 1, nil
	case l == 0x80:
		return 0, 0, fmt.Errorf("%w: indefinite length", ErrDERInvalid)
	case l == 0xFF:
		return 0, 0, fmt.Errorf("%w: reserved length octet FF", ErrDERInvalid)
	}
	n = int(l & 0x7F)
	if n > 4 {
		return 0, 0, fmt.Errorf("%w: %d length octets", ErrDERInvalid, n)
	}
	if 1+n > len(b) {
		return 0, 0, ErrDERTruncated
	}
	if b[1] == 0 {
		return 0, 0, fmt.Errorf("%w: length with a leading zero octet", ErrDERInvalid)
	}
	var v uint64
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint64(c)
	}
	if v < 0x80 {
		return 0, 0, fmt.Errorf("%w: long-form length %d below 128", ErrDERInvalid, v)
	}
	if v > maxDERLength {
		return 0, 0, fmt.Errorf("%w: length %d too large", ErrDERInvalid, v)
	}
	return int(v), 1 + n, nil
}
