package jpkiclient

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDERHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want DERHeader
	}{
		{"certificate, 82 length", "30 82 06 1F", DERHeader{Tag: 16, Constructed: true, HeaderLen: 4, Length: 0x61F}},
		{"short length", "04 05 01 02 03 04 05", DERHeader{Tag: 4, HeaderLen: 2, Length: 5}},
		{"zero length", "05 00", DERHeader{Tag: 5, HeaderLen: 2}},
		{"81 length", "30 81 80", DERHeader{Tag: 16, Constructed: true, HeaderLen: 3, Length: 128}},
		{"83 length", "30 83 01 00 00", DERHeader{Tag: 16, Constructed: true, HeaderLen: 5, Length: 0x10000}},
		{"84 length", "30 84 01 00 00 00", DERHeader{Tag: 16, Constructed: true, HeaderLen: 6, Length: 0x1000000}},
		{"private constructed FF 20", "FF 20 65", DERHeader{Class: 3, Constructed: true, Tag: 32, HeaderLen: 3, Length: 0x65}},
		{"application 7F 21 (CV certificate)", "7F 21 82 02 33", DERHeader{Class: 1, Constructed: true, Tag: 0x21, HeaderLen: 5, Length: 0x233}},
		{"two-octet tag number", "9F 81 00 01", DERHeader{Class: 2, Tag: 128, HeaderLen: 4, Length: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDERHeader(unhex(t, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDERHeaderErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrDERTruncated},
		{"30", ErrDERTruncated},
		{"30 82 06", ErrDERTruncated},
		{"30 84 01 00 00", ErrDERTruncated},
		{"1F", ErrDERTruncated},
		{"1F 81", ErrDERTruncated},
		{"30 80", ErrDERInvalid},                // indefinite
		{"30 FF", ErrDERInvalid},                // reserved
		{"30 85 01 00 00 00 00", ErrDERInvalid}, // five length octets
		{"30 81 7F", ErrDERInvalid},             // long form below 128
		{"30 82 00 FF", ErrDERInvalid},          // leading zero
		{"1F 80 01 00", ErrDERInvalid},          // tag with leading zero
		{"1F 1E 00", ErrDERInvalid},
		{"FF 10 0C", ErrDERInvalid},          // the text AP's BER tag FF 10 (docs/card.md §3.2) is not DER             // low tag number in high form
		{"1F 81 81 81 01 00", ErrDERInvalid}, // tag number too long
		{"30 84 FF FF FF FF", ErrDERInvalid}, // too large
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			h, err := ParseDERHeader(unhex(t, tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseDERHeader = %+v, %v; want %v", h, err, tt.want)
			}
		})
	}
}

// FuzzParseDERHeader checks that the parser never panics, stays inside its
// input, and agrees with itself when more bytes follow the header.
func FuzzParseDERHeader(f *testing.F) {
	for _, s := range []string{"3082061F", "308180", "FF100C", "7F2182023", "9F810001", "3080", "30840100000000", "1F808001"} {
		f.Add(unhex(f, s+map[bool]string{true: "0", false: ""}[len(s)%2 == 1]))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseDERHeader(b)
		if err != nil {
			if !errors.Is(err, ErrDERTruncated) && !errors.Is(err, ErrDERInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if h.HeaderLen < 2 || h.HeaderLen > len(b) || h.Length < 0 || h.TotalLen() < h.HeaderLen {
			t.Fatalf("% X: implausible header %+v", b, h)
		}
		again, err := ParseDERHeader(append(b[:h.HeaderLen:h.HeaderLen], 0xAA, 0xBB))
		if err != nil || again != h {
			t.Fatalf("% X: header alone parses as %+v, %v; with the rest as %+v", b, again, err, h)
		}
	})
}
