package cardinfo_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/simcard/cardinfo"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTLVLengthForms(t *testing.T) {
	tests := []struct {
		name   string
		tag    uint16
		n      int
		header string
	}{
		{"empty", 0xDF25, 0, "DF25 00"},
		{"one byte tag", 0x90, 3, "90 03"},
		{"127 short form", 0xDF22, 127, "DF22 7F"},
		{"128 long form 82", 0xDF22, 128, "DF22 82 0080"},
		{"255 still 82, never 81", 0xFF20, 255, "FF20 82 00FF"},
		{"256", 0xDF33, 256, "DF33 82 0100"},
		{"65535", 0xDF27, 65535, "DF27 82 FFFF"},
		{"65536 needs 83", 0xDF27, 65536, "DF27 83 010000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := bytes.Repeat([]byte{0xA5}, tt.n)
			got := cardinfo.TLV(tt.tag, value)
			want := append(unhex(t, tt.header), value...)
			if !bytes.Equal(got[:len(got)-tt.n], want[:len(want)-tt.n]) || len(got) != len(want) {
				t.Fatalf("header % X, want % X", got[:min(len(got), 6)], want[:min(len(want), 6)])
			}
			obj, rest, err := cardinfo.Decode(append(got, 0xFF, 0xFF))
			if err != nil {
				t.Fatal(err)
			}
			if obj.Tag != uint32(tt.tag) || !bytes.Equal(obj.Value, value) || !bytes.Equal(obj.Raw, got) || !bytes.Equal(rest, []byte{0xFF, 0xFF}) {
				t.Fatalf("decode: tag %X, %d value bytes, rest % X", obj.Tag, len(obj.Value), rest)
			}
		})
	}
}

func TestDecodeRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", cardinfo.ErrTruncated},
		{"tag only", "DF", cardinfo.ErrTruncated},
		{"no length", "DF22", cardinfo.ErrTruncated},
		{"value short", "DF22 05 3132", cardinfo.ErrTruncated},
		{"long length short", "DF22 82 01", cardinfo.ErrTruncated},
		{"indefinite length", "FF20 80 00", cardinfo.ErrMalformed},
		{"five length bytes", "DF22 85 0000000001 00", cardinfo.ErrMalformed},
		{"four byte tag", "DF 81 81 81 00", cardinfo.ErrMalformed},
		{"huge length", "DF22 84 FFFFFFFF 00", cardinfo.ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := cardinfo.Decode(unhex(t, tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%s) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestDecodeAllStopsAtFiller(t *testing.T) {
	in := append(append(cardinfo.TLV(0xDF31, []byte{1}), cardinfo.TLV(0xDF32, []byte{2, 3})...), 0xFF, 0xFF, 0xFF)
	objs, err := cardinfo.DecodeAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Tag != 0xDF31 || objs[1].Tag != 0xDF32 || !bytes.Equal(objs[1].Value, []byte{2, 3}) {
		t.Fatalf("got %+v", objs)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(unhex(f, "FF10 0C 313233343536373839303138 FFFF"))
	f.Add(unhex(f, "FF20 82 0005 DF25 01 32"))
	f.Add(unhex(f, "7F21 82 0002 5F37 00"))
	f.Add(unhex(f, "DF22 84 FFFFFFFF"))
	f.Add(unhex(f, "9F FF FF 01 00"))
	f.Add(append(cardinfo.TLV(0xFF20, cardinfo.TLV(0xDF22, []byte("19900102"))), 0xFF))
	f.Fuzz(func(t *testing.T, b []byte) {
		if seg, err := cardinfo.FaceSegments(b); err == nil && len(seg[0])+len(seg[1])+len(seg[2]) > len(b) {
			t.Fatalf("segments longer than the file")
		}
		obj, rest, err := cardinfo.Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(append(append([]byte(nil), obj.Raw...), rest...), b) {
			t.Fatalf("raw + rest is not the input")
		}
		if !bytes.HasSuffix(obj.Raw, obj.Value) {
			t.Fatalf("value is not the tail of raw")
		}
		// Canonical objects (as the card writes them) re-encode to themselves.
		if obj.Tag <= 0xFFFF && (obj.Tag > 0xFF) == (b[0]&0x1F == 0x1F) {
			if enc := cardinfo.TLV(uint16(obj.Tag), obj.Value); len(enc) == len(obj.Raw) && !bytes.Equal(enc, obj.Raw) {
				t.Fatalf("re-encoding % X gave % X", obj.Raw, enc)
			}
		}
		if _, err := cardinfo.DecodeAll(obj.Value); err != nil && !errors.Is(err, cardinfo.ErrTruncated) && !errors.Is(err, cardinfo.ErrMalformed) {
			t.Fatalf("DecodeAll error %v is neither truncated nor malformed", err)
		}
	})
}
