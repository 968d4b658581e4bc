package apduclient

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestCommandEncoding(t *testing.T) {
	data300 := bytes.Repeat([]byte{0xAB}, 300)
	tests := []struct {
		name string
		cmd  Command
		want string
		cas  Case
		ext  bool
	}{
		{"case 1: VERIFY status query", Command{INS: 0x20, P2: 0x80}, "00 20 00 80", Case1, false},
		{"case 2S: READ BINARY Le=04", Command{INS: 0xB0, Ne: 4}, "00 B0 00 00 04", Case2, false},
		{"case 2S: Ne 256 is Le 00", Command{INS: 0xB0, P1: 0x01, Ne: 256}, "00 B0 01 00 00", Case2, false},
		{"case 2E: Ne 257", Command{INS: 0xB0, Ne: 257}, "00 B0 00 00 00 01 01", Case2, true},
		{"case 2E: Ne 65536 is Le 0000", Command{INS: 0xB0, Ne: 65536}, "00 B0 00 00 00 00 00", Case2, true},
		{"case 2E: forced", Command{INS: 0xB0, Ne: 0x20, Extended: true}, "00 B0 00 00 00 00 20", Case2, true},
		{"case 3S: SELECT EF", Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{0x00, 0x0A}}, "00 A4 02 0C 02 00 0A", Case3, false},
		{"case 3S: SELECT AP", Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: mustHex(t, "D392F000260100000001")},
			"00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", Case3, false},
		{"case 3E: forced", Command{INS: 0xA2, Data: []byte{1, 2}, Extended: true}, "00 A2 00 00 00 00 02 01 02", Case3, true},
		{"case 4S: sign", Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{1, 2, 3}, Ne: 256}, "80 2A 00 80 03 01 02 03 00", Case4, false},
		{"case 4E: Ne 65536", Command{INS: 0x88, Data: []byte{9}, Ne: 65536}, "00 88 00 00 00 00 01 09 00 00", Case4, true},
		{"case 4E: forced by Ne", Command{INS: 0x88, Data: []byte{9}, Ne: 300}, "00 88 00 00 00 00 01 09 01 2C", Case4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cmd.Bytes()
			if err != nil {
				t.Fatalf("Bytes: %v", err)
			}
			if diff := cmp.Diff(mustHex(t, tt.want), got); diff != "" {
				t.Errorf("encoding (-want +got):\n%s", diff)
			}
			if n, _ := tt.cmd.Len(); n != len(got) {
				t.Errorf("Len() = %d, encoding has %d bytes", n, len(got))
			}
			if c := tt.cmd.Case(); c != tt.cas {
				t.Errorf("Case() = %d, want %d", c, tt.cas)
			}
			if e := tt.cmd.IsExtended(); e != tt.ext {
				t.Errorf("IsExtended() = %v, want %v", e, tt.ext)
			}
			parsed, err := ParseCommand(got)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			again, err := parsed.Bytes()
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("round trip: % X, %v; want % X", again, err, got)
			}
		})
	}

	t.Run("case 3E: long data", func(t *testing.T) {
		got, err := Command{INS: 0xD6, Data: data300}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[:7], mustHex(t, "00 D6 00 00 00 01 2C")) || len(got) != 307 {
			t.Errorf("header % X, length %d", got[:7], len(got))
		}
	})
}

func TestCommandEncodingErrors(t *testing.T) {
	for name, c := range map[string]Command{
		"data too long": {Data: make([]byte, MaxExtendedNc+1)},
		"Ne too large":  {Ne: MaxExtendedNe + 1},
		"Ne negative":   {Ne: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if b, err := c.Bytes(); err == nil {
				t.Errorf("Bytes() = % X, want an error", b)
			}
		})
	}
}

func TestAppendToReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	c := Command{INS: 0xB0, Ne: 256}
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = c.AppendTo(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("AppendTo allocated %v times per run into a large enough buffer", allocs)
	}
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Command
	}{
		{"case 1", "00 20 00 80", Command{INS: 0x20, P2: 0x80}},
		{"jpki-rs empty VERIFY is case 2S", "00 20 00 80 00", Command{INS: 0x20, P2: 0x80, Ne: 256}},
		{"case 3S", "00 20 00 80 04 31 32 33 34", Command{INS: 0x20, P2: 0x80, Data: []byte("1234")}},
		{"case 4S", "80 2A 00 80 01 AA 00", Command{CLA: 0x80, INS: 0x2A, P2: 0x80, Data: []byte{0xAA}, Ne: 256}},
		{"case 2E", "00 B0 81 00 00 00 00", Command{INS: 0xB0, P1: 0x81, Ne: 65536, Extended: true}},
		{"case 3E", "00 A2 00 00 00 00 01 55", Command{INS: 0xA2, Data: []byte{0x55}, Extended: true}},
		{"case 4E", "00 88 00 00 00 00 01 55 01 00", Command{INS: 0x88, Data: []byte{0x55}, Ne: 256, Extended: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(mustHex(t, tt.in))
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCommandMalformed(t *testing.T) {
	for _, in := range []string{
		"",
		"00 20 00",
		"00 20 00 80 05 31 32",       // Lc larger than body
		"00 20 00 80 02 31 32 00 00", // one byte too many
		"00 B0 00 00 00 01",          // truncated extended Le
		"00 A2 00 00 00 00 00 55",    // extended Lc 0
		"00 A2 00 00 00 00 02 55",    // extended Lc larger than body
	} {
		t.Run(in, func(t *testing.T) {
			c, err := ParseCommand(mustHex(t, in))
			if !errors.Is(err, ErrMalformedCommand) {
				t.Errorf("ParseCommand = %+v, %v; want ErrMalformedCommand", c, err)
			}
		})
	}
}

// FuzzParseCommand checks that the parser never panics and that whatever it
// accepts re-encodes to exactly the input.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00A4040C0AD392F000260100000001", "00208000", "0020008000", "802A0080030102 0300", "00B0000000 0000", "00880000000001090000"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		enc, err := c.Bytes()
		if err != nil {
			t.Fatalf("parsed %+v but cannot encode it: %v", c, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip: % X -> %+v -> % X", b, c, enc)
		}
	})
}
