package cardinfoclient

import (
	"errors"
	"fmt"
)

// ErrTLVTruncated reports a TLV that ends before its header or its value does.
var ErrTLVTruncated = errors.New("TLV truncated")

// ErrTLVInvalid reports a tag or length field that the card-info applets do
// not use (docs/card.md §3.2).
var ErrTLVInvalid = errors.New("invalid TLV")

// Tag is a BER tag written as its identifier octets, big-endian: 0x90,
// 0x5F4E, 0xDF21, 0xFF10, 0x7F21.
type Tag uint32

func (t Tag) String() string { return fmt.Sprintf("%X", uint32(t)) }

// Constructed reports bit 6 of the first identifier octet.
func (t Tag) Constructed() bool {
	b := uint32(t)
	for b > 0xFF {
		b >>= 8
	}
	return b&0x20 != 0
}

// The tags the card-info applets use (docs/card.md §3.2, §3.3). All
// multi-byte tags are private class: FF xx constructed, DF xx primitive,
// written in the high-tag-number form even for numbers below 31 (FF 10 is
// private constructed 16).
const (
	TagMyNumber   Tag = 0xFF10 // text EF 0001
	TagFacts      Tag = 0xFF20 // text EF 0002 (基本4情報); card-face EF 0002
	TagIntegrity  Tag = 0xFF30 // text EF 0003
	TagBasicInfo  Tag = 0xFF40 // text EF 0005
	TagCVCert     Tag = 0x7F21 // EF 0004: card-verifiable certificate
	TagCVBody     Tag = 0x5F4E // certificate body
	TagCVSig      Tag = 0x5F37 // certificate signature
	TagRSAExp     Tag = 0x90   // RSA public exponent
	TagRSAModulus Tag = 0x91   // RSA modulus
)

// Header is the tag and length octets of a BER TLV (ITU-T X.690 clauses
// 8.1.2 and 8.1.3).
type Header struct {
	Tag       Tag
	HeaderLen int // tag + length octets
	Length    int // value octets
}

// TotalLen is the length of the whole TLV.
func (h Header) TotalLen() int { return h.HeaderLen + h.Length }

// ParseHeader parses the tag and length at the start of b.
//
// Tags are one octet, or a first octet with tag bits 11111 followed by up to
// two more (X.690 8.1.2.4); a number below 31 in that form is accepted, since
// the card writes FF 10 (docs/card.md §3.2). Lengths are short (below 128),
// 81 xx or 82 xx xx. A leading zero octet is accepted (the card writes
// 82 00 9F, §3.2) but a long-form value below 128 is not: myna-go's parser
// rejects it (§4.2), so a card that wrote one would break that client.
// ParseHeader returns ErrTLVTruncated when b ends inside the header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) == 0 {
		return Header{}, ErrTLVTruncated
	}
	tag := Tag(b[0])
	i := 1
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return Header{}, ErrTLVTruncated
			}
			c := b[i]
			if i == 1 && c&0x7F == 0 {
				return Header{}, fmt.Errorf("%w: tag %02X %02X has a zero first subsequent octet", ErrTLVInvalid, b[0], c)
			}
			tag = tag<<8 | Tag(c)
			i++
			if c&0x80 == 0 {
				break
			}
			if i == 3 {
				return Header{}, fmt.Errorf("%w: tag longer than 3 octets", ErrTLVInvalid)
			}
		}
	}
	if i >= len(b) {
		return Header{}, ErrTLVTruncated
	}
	l := b[i]
	i++
	h := Header{Tag: tag}
	switch {
	case l < 0x80:
		h.Length = int(l)
	case l == 0x81 || l == 0x82:
		n := int(l & 0x7F)
		if i+n > len(b) {
			return Header{}, ErrTLVTruncated
		}
		for _, c := range b[i : i+n] {
			h.Length = h.Length<<8 | int(c)
		}
		i += n
		if h.Length < 0x80 {
			return Header{}, fmt.Errorf("%w: tag %v: long-form length %d below 128", ErrTLVInvalid, tag, h.Length)
		}
	case l == 0x80:
		return Header{}, fmt.Errorf("%w: tag %v: indefinite length", ErrTLVInvalid, tag)
	default:
		return Header{}, fmt.Errorf("%w: tag %v: length octet %02X (only short, 81 and 82 forms are used)", ErrTLVInvalid, tag, l)
	}
	h.HeaderLen = i
	return h, nil
}

// TLV is one parsed data object.
type TLV struct {
	Header
	Offset int    // where the TLV starts in the buffer it was parsed from
	Value  []byte // aliases the parsed buffer
	Raw    []byte // the whole TLV, header included; aliases the buffer
}

// ParseTLV parses the TLV at the start of b and returns it and the bytes
// after it.
func ParseTLV(b []byte) (TLV, []byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return TLV{}, nil, err
	}
	if h.TotalLen() > len(b) {
		return TLV{}, nil, fmt.Errorf("%w: tag %v needs %d bytes, %d available", ErrTLVTruncated, h.Tag, h.TotalLen(), len(b))
	}
	n := h.TotalLen()
	return TLV{Header: h, Value: b[h.HeaderLen:n:n], Raw: b[:n:n]}, b[n:], nil
}

// ParseAll parses b as a sequence of TLVs that fills it exactly, such as the
// value of a constructed object. Each TLV's Offset is relative to b.
func ParseAll(b []byte) ([]TLV, error) {
	var out []TLV
	for off := 0; off < len(b); {
		t, _, err := ParseTLV(b[off:])
		if err != nil {
			return nil, fmt.Errorf("parsing TLV at offset %d: %w", off, err)
		}
		t.Offset = off
		out = append(out, t)
		off += t.TotalLen()
	}
	return out, nil
}

// children parses the value of t as TLVs and checks that they carry exactly
// the tags want, in that order. Offsets are made relative to the buffer t
// was parsed from, given t's own offset base.
func children(t TLV, base int, want ...Tag) ([]TLV, error) {
	kids, err := ParseAll(t.Value)
	if err != nil {
		return nil, fmt.Errorf("parsing the value of %v: %w", t.Tag, err)
	}
	if len(kids) != len(want) {
		return nil, fmt.Errorf("%w: %v holds %d objects (%s), want %d (%s)", ErrTLVInvalid, t.Tag, len(kids), tagList(kids), len(want), tagNames(want))
	}
	for i := range kids {
		if kids[i].Tag != want[i] {
			return nil, fmt.Errorf("%w: object %d of %v is %v, want %v", ErrTLVInvalid, i+1, t.Tag, kids[i].Tag, want[i])
		}
		kids[i].Offset += base + t.HeaderLen
	}
	return kids, nil
}

func tagList(ts []TLV) string {
	tags := make([]Tag, len(ts))
	for i, t := range ts {
		tags[i] = t.Tag
	}
	return tagNames(tags)
}

func tagNames(tags []Tag) string {
	s := ""
	for i, t := range tags {
		if i > 0 {
			s += " "
		}
		s += t.String()
	}
	return s
}
