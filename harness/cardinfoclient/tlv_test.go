package cardinfoclient

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Header
	}{
		{"My Number, long-form private tag 16", "FF 10 0C", Header{Tag: 0xFF10, HeaderLen: 3, Length: 12}},
		{"facts, short length", "FF 20 65", Header{Tag: 0xFF20, HeaderLen: 3, Length: 0x65}},
		{"integrity record, 82 length", "FF 30 82 01 4B", Header{Tag: 0xFF30, HeaderLen: 5, Length: 0x14B}},
		{"basic info, 82 with a leading zero", "FF 40 82 00 9F", Header{Tag: 0xFF40, HeaderLen: 5, Length: 0x9F}},
		{"81 length", "DF 23 81 80", Header{Tag: 0xDF23, HeaderLen: 4, Length: 0x80}},
		{"CV certificate", "7F 21 82 02 33", Header{Tag: 0x7F21, HeaderLen: 5, Length: 0x233}},
		{"one-byte tag", "90 03 01 00 01", Header{Tag: 0x90, HeaderLen: 2, Length: 3}},
		{"zero length", "DF 25 00", Header{Tag: 0xDF25, HeaderLen: 3}},
		{"three-octet tag", "DF 81 01 02", Header{Tag: 0xDF8101, HeaderLen: 4, Length: 2}},
		{"82 FF FF", "FF 20 82 FF FF", Header{Tag: 0xFF20, HeaderLen: 5, Length: 0xFFFF}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHeader(unhex(t, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrTLVTruncated},
		{"tag only", "FF", ErrTLVTruncated},
		{"tag without length", "FF 10", ErrTLVTruncated},
		{"81 without its octet", "DF 23 81", ErrTLVTruncated},
		{"82 with one octet", "FF 30 82 01", ErrTLVTruncated},
		{"continued tag cut short", "DF 81", ErrTLVTruncated},
		{"indefinite length", "FF 20 80", ErrTLVInvalid},
		{"83 length", "FF 20 83 01 00 00", ErrTLVInvalid},
		{"reserved FF length", "FF 20 FF", ErrTLVInvalid},
		{"81 below 128 (myna-go rejects it)", "DF 22 81 05", ErrTLVInvalid},
		{"82 below 128", "DF 22 82 00 05", ErrTLVInvalid},
		{"zero first subsequent tag octet", "DF 80 01 00", ErrTLVInvalid},
		{"tag longer than three octets", "DF 81 81 01 00", ErrTLVInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(unhex(t, tt.in))
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseHeader = %+v, %v; want %v", h, err, tt.want)
			}
		})
	}
}

func TestParseTLVAndAll(t *testing.T) {
	b := unhex(t, "DF 21 02 00 0E DF 25 01 32 FF FF")
	first, rest, err := ParseTLV(b)
	if err != nil {
		t.Fatal(err)
	}
	if first.Tag != 0xDF21 || !bytes.Equal(first.Value, []byte{0, 0x0E}) || len(first.Raw) != 5 || len(rest) != 6 {
		t.Errorf("ParseTLV = %+v, rest % X", first, rest)
	}
	all, err := ParseAll(b[:9])
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[1].Offset != 5 || all[1].Tag != 0xDF25 || string(all[1].Value) != "2" {
		t.Errorf("ParseAll = %+v", all)
	}
	if _, err := ParseAll(b); !errors.Is(err, ErrTLVTruncated) {
		t.Errorf("ParseAll over FF FF filler: %v, want ErrTLVTruncated", err)
	}
	if _, _, err := ParseTLV(unhex(t, "FF 10 0C 35 33")); !errors.Is(err, ErrTLVTruncated) {
		t.Errorf("value cut short: %v", err)
	}
}

func TestTagConstructed(t *testing.T) {
	for tag, want := range map[Tag]bool{0xFF20: true, 0x7F21: true, 0xDF22: false, 0x5F4E: false, 0x90: false, 0xDF8101: false} {
		if got := tag.Constructed(); got != want {
			t.Errorf("%v.Constructed() = %v, want %v", tag, got, want)
		}
	}
}

// FuzzParseAll checks that the TLV parser never panics, never reads outside
// its input, and that what it parses re-assembles into the input.
func FuzzParseAll(f *testing.F) {
	for _, s := range []string{"FF100C353337363836363737313838FFFF", "FF20820003DF2500", "DF2281", "FF2080", "DF810102AABB", "7F218202"} {
		f.Add(unhexOK(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		all, err := ParseAll(b)
		if err != nil {
			if !errors.Is(err, ErrTLVTruncated) && !errors.Is(err, ErrTLVInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var joined []byte
		for _, x := range all {
			if x.HeaderLen < 2 || x.HeaderLen > 5 || len(x.Value) != x.Length || len(x.Raw) != x.TotalLen() {
				t.Fatalf("% X: implausible TLV %+v", b, x.Header)
			}
			if !bytes.Equal(b[x.Offset:x.Offset+x.TotalLen()], x.Raw) {
				t.Fatalf("% X: TLV at %d does not match the input", b, x.Offset)
			}
			joined = append(joined, x.Raw...)
		}
		if !bytes.Equal(joined, b) {
			t.Fatalf("% X: TLVs re-assemble into % X", b, joined)
		}
	})
}
