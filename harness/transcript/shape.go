package transcript

import (
	"fmt"
	"strings"
)

// Shape describes a response's structure without its values: the BER-TLV
// tags (ISO/IEC 7816-4 clause 5.2) of the objects it holds, the children of
// constructed objects down to two levels, "+FF" for filler after the last
// object, "partial" when the first object, with a long-form length, goes on
// past the response (a 4-byte certificate header), and "bytes" for data
// that is not TLV. ASCII text never looks partial: its second byte is never
// a long-form length, so no byte of it shows in a shape. A
// certificate's shape is "30{30 30 03}", the card face's "FF20{DF21 DF22 …}".
func Shape(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s, ok := shapeList(b, 2)
	if !ok {
		if _, hl, total, err := header(b); err == nil && total > len(b) && hl > tagLen(b)+1 {
			return fmt.Sprintf("%X partial", b[:tagLen(b)])
		}
		return "bytes"
	}
	return s
}

// DeclaredLen is the total length (header included) the first TLV header of
// b declares, 0 when b does not start with one.
func DeclaredLen(b []byte) int {
	_, hl, total, err := header(b)
	if err != nil || (total > len(b) && hl == tagLen(b)+1) {
		return 0
	}
	return total
}

func shapeList(b []byte, depth int) (string, bool) {
	var parts []string
	for len(b) > 0 {
		if allFF(b) && len(parts) > 0 {
			parts = append(parts, "+FF")
			break
		}
		tag, hl, total, err := header(b)
		if err != nil || total > len(b) {
			return "", false
		}
		part := fmt.Sprintf("%X", tag)
		if tag[0]&0x20 != 0 && depth > 0 {
			inner, ok := shapeList(b[hl:total], depth-1)
			if !ok {
				return "", false
			}
			part += "{" + inner + "}"
		}
		parts = append(parts, part)
		b = b[total:]
	}
	return strings.Join(parts, " "), true
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xFF {
			return false
		}
	}
	return true
}

func tagLen(b []byte) int {
	if b[0]&0x1F == 0x1F && len(b) > 1 {
		return 2
	}
	return 1
}

// header decodes a BER-TLV header: one- or two-byte tag, short or 81/82/83
// long length. total is header plus value length.
func header(b []byte) (tag []byte, hl, total int, err error) {
	if len(b) < 2 || b[0] == 0x00 || b[0] == 0xFF && len(b) > 1 && b[1] == 0xFF {
		return nil, 0, 0, fmt.Errorf("no TLV header")
	}
	tl := tagLen(b)
	if len(b) < tl+1 {
		return nil, 0, 0, fmt.Errorf("no TLV header")
	}
	tag, rest := b[:tl], b[tl:]
	n, ll := int(rest[0]), 1
	switch {
	case rest[0] < 0x80:
	case rest[0] >= 0x81 && rest[0] <= 0x83:
		ll = 1 + int(rest[0]&0x7F)
		if len(rest) < ll {
			return nil, 0, 0, fmt.Errorf("truncated length")
		}
		n = 0
		for _, c := range rest[1:ll] {
			n = n<<8 | int(c)
		}
	default:
		return nil, 0, 0, fmt.Errorf("bad length byte %02X", rest[0])
	}
	return tag, tl + ll, tl + ll + n, nil
}
