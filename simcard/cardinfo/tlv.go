package cardinfo

import (
	"errors"
	"fmt"
)

// TLV encodes one BER-TLV object as the card-info applets write them
// (docs/card.md §3.2): the tag on one byte when it fits (90, 91, A1), else on
// two (private-class DFxx, FFxx, 5Fxx, 7Fxx); the length in short form below
// 128 and otherwise as 82 HH LL, even where 81 LL would do. myna-go's ASN.1
// fork rejects long-form lengths below 128, and real cards write 82 for
// every long length (FF 40 82 00 9F). Values longer than 65535 bytes, which
// no file of the card holds, get the 83/84 forms.
func TLV(tag uint16, value []byte) []byte {
	out := make([]byte, 0, 7+len(value))
	if tag > 0xFF {
		out = append(out, byte(tag>>8))
	}
	out = append(out, byte(tag))
	out = AppendLength(out, len(value))
	return append(out, value...)
}

// AppendLength appends a BER length as the card writes it: short form below
// 128, 82 HH LL up to 65535 (docs/card.md §3.2).
func AppendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xFFFFFF:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// Object is one decoded BER-TLV object.
type Object struct {
	Tag   uint32 // the tag bytes, big-endian (DF22 → 0xDF22)
	Value []byte
	Raw   []byte // tag, length and value as written
}

// Errors of Decode.
var (
	ErrTruncated = errors.New("TLV truncated")
	ErrMalformed = errors.New("TLV malformed")
)

// Decode reads one BER-TLV object (ISO/IEC 7816-4 5.2) from the start of b
// and returns it with the bytes that follow. Tags of up to three bytes and
// definite lengths of up to four bytes are accepted; a long-form length
// below 128 is accepted too (Decode reads what other cards write; TLV never
// writes one). It never reads past b.
func Decode(b []byte) (Object, []byte, error) {
	if len(b) == 0 {
		return Object{}, nil, fmt.Errorf("decoding tag: %w", ErrTruncated)
	}
	i := 1
	tag := uint32(b[0])
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return Object{}, nil, fmt.Errorf("decoding tag: %w", ErrTruncated)
			}
			if i == 3 {
				return Object{}, nil, fmt.Errorf("decoding tag: more than 3 bytes: %w", ErrMalformed)
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return Object{}, nil, fmt.Errorf("decoding length of tag %X: %w", tag, ErrTruncated)
	}
	n := int(b[i])
	i++
	if n > 0x7F {
		k := n & 0x7F
		if k == 0 || k > 4 {
			return Object{}, nil, fmt.Errorf("decoding length of tag %X: form %02X: %w", tag, n, ErrMalformed)
		}
		if len(b)-i < k {
			return Object{}, nil, fmt.Errorf("decoding length of tag %X: %w", tag, ErrTruncated)
		}
		n = 0
		for _, x := range b[i : i+k] {
			n = n<<8 | int(x)
		}
		i += k
	}
	if n > len(b)-i {
		return Object{}, nil, fmt.Errorf("decoding value of tag %X: %d bytes, %d left: %w", tag, n, len(b)-i, ErrTruncated)
	}
	end := i + n
	return Object{Tag: tag, Value: b[i:end], Raw: b[:end]}, b[end:], nil
}

// DecodeAll reads the objects inside a constructed value until b ends or
// filler begins (00 or FF where a tag would start: the fields inside are all
// DFxx or 5Fxx/7Fxx/9x, and files are padded, docs/card.md §3.2).
func DecodeAll(b []byte) ([]Object, error) {
	var objs []Object
	for len(b) > 0 && b[0] != 0x00 && b[0] != 0xFF {
		o, rest, err := Decode(b)
		if err != nil {
			return objs, err
		}
		objs = append(objs, o)
		b = rest
	}
	return objs, nil
}
