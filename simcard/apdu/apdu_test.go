package apdu

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCases(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Command
	}{
		{"case 1", []byte{0x00, 0x20, 0x00, 0x80}, Command{CLA: 0, INS: 0x20, P1: 0, P2: 0x80, Case: Case1}},
		{"case 2S Le 00 = 256", []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, Command{INS: 0xB0, Ne: 256, Case: Case2Short}},
		{"case 2S Le 07", []byte{0x00, 0xB0, 0x01, 0x00, 0x07}, Command{INS: 0xB0, P1: 1, Ne: 7, Case: Case2Short}},
		{"case 3S", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A}, Command{INS: 0xA4, P1: 2, P2: 0x0C, Data: []byte{0, 0x0A}, Case: Case3Short}},
		{"case 4S", []byte{0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00}, Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{0xAA, 0xBB}, Ne: 256, Case: Case4Short}},
		{"case 2E Le 0000 = 65536", []byte{0x00, 0xB0, 0x81, 0x00, 0x00, 0x00, 0x00}, Command{INS: 0xB0, P1: 0x81, Ne: 65536, Case: Case2Extended}},
		{"case 2E Le 061F", []byte{0x00, 0xB0, 0x00, 0x04, 0x00, 0x06, 0x1F}, Command{INS: 0xB0, P2: 4, Ne: 0x061F, Case: Case2Extended}},
		{"case 3E", []byte{0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31}, Command{INS: 0x20, P2: 0x80, Data: []byte{0x31}, Case: Case3Extended}},
		{"case 4E", []byte{0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31, 0x01, 0x00}, Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{0x31}, Ne: 256, Case: Case4Extended}},
		{"case 4E Le 0000", []byte{0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31, 0x00, 0x00}, Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{0x31}, Ne: 65536, Case: Case4Extended}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(% X): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(% X) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":                       {},
		"3-byte header":               {0x00, 0xA4, 0x04},
		"short Lc too long":           {0x00, 0xA4, 0x04, 0x0C, 0x05, 0x01, 0x02},
		"short Lc plus 2 extra bytes": {0x00, 0xA4, 0x04, 0x0C, 0x01, 0x01, 0x00, 0x00},
		"extended 2-byte body":        {0x00, 0xB0, 0x00, 0x00, 0x00, 0x01},
		"extended Lc 0":               {0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01},
		"extended Lc too long":        {0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x05, 0x31},
		"extended Le 1 byte":          {0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31, 0x00},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(% X) = %v, want ErrMalformed", in, err)
			}
		})
	}
}

func TestSWFamilies(t *testing.T) {
	var err error = VerifyFailed(2)
	if !errors.Is(err, VerifyFailed(0)) {
		t.Error("63C2 does not match the 63Cx family")
	}
	if errors.Is(err, RefDataNotUsable) {
		t.Error("63C2 matches 6984")
	}
	var sw SW
	if !errors.As(err, &sw) {
		t.Fatal("errors.As failed")
	}
	if n, ok := sw.TriesLeft(); !ok || n != 2 {
		t.Errorf("TriesLeft = %d, %v; want 2, true", n, ok)
	}
	if _, ok := OK.TriesLeft(); ok {
		t.Error("9000 reported as a wrong PIN")
	}
	if got := VerifyFailed(20); got != 0x63CF {
		t.Errorf("VerifyFailed(20) = %04X", uint16(got))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range [][]byte{
		{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01},
		{0x00, 0xB0, 0x00, 0x00, 0x00}, {0x00, 0xB0, 0x81, 0x00, 0x00, 0x00, 0x00},
		{0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31, 0x00, 0x00}, {0x00, 0x20, 0x00, 0x80},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		// A parsed command must account for every byte of the input.
		n := 4 + len(c.Data)
		switch c.Case {
		case Case2Short:
			n++
		case Case3Short:
			n++
		case Case4Short:
			n += 2
		case Case2Extended:
			n += 3
		case Case3Extended:
			n += 3
		case Case4Extended:
			n += 5
		}
		if n != len(b) {
			t.Fatalf("Parse(% X) accounted for %d of %d bytes: %+v", b, n, len(b), c)
		}
		if c.HasLe() && (c.Ne < 1 || c.Ne > 65536) {
			t.Fatalf("Ne %d out of range", c.Ne)
		}
	})
}
