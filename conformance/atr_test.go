package conformance

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseATR(t *testing.T) {
	for _, tc := range []struct {
		name        string
		atr         string
		protocols   []int
		historical  string
		contactless bool
		wantErr     bool
	}{
		{name: "JPKI contact (OpenSC)", atr: "3B E0 00 FF 81 31 FE 45 14", protocols: []int{1, 1}},
		{name: "JPKI OpenSC #3021", atr: "3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B", protocols: []int{1, 1}, historical: "80 12 39 2F 31 C1 73 C6 01 C0"},
		{name: "JPKI myna #12", atr: "3B C5 FF 81 31 FB 45 80 73 C6 01 00 00", protocols: []int{1, 1}, historical: "80 73 C6 01 00"},
		{name: "vicc iso7816", atr: "3B 95 13 81 01 80 73 FF 01 00 0B", protocols: []int{1, 1}, historical: "80 73 FF 01 00"},
		{name: "contactless part 3", atr: "3B 80 80 01 01", protocols: []int{0, 1}, contactless: true},
		{name: "T=0 only, no TCK", atr: "3B 02 14 50", protocols: []int{0}, historical: "14 50"},
		{name: "bad TCK", atr: "3B E0 00 FF 81 31 FE 45 15", wantErr: true},
		{name: "missing TCK", atr: "3B E0 00 FF 81 31 FE 45", wantErr: true},
		{name: "truncated interface bytes", atr: "3B E0 00", wantErr: true},
		{name: "bad TS", atr: "3A 00", wantErr: true},
		{name: "too long", atr: "3B 8F 80 01" + strings.Repeat(" 00", 30), wantErr: true},
		{name: "extra bytes after T=0 ATR", atr: "3B 00 AA", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseATR(mustHex(t, tc.atr))
			if tc.wantErr {
				if !errors.Is(err, ErrATR) {
					t.Fatalf("ParseATR(%s) = %v, want ErrATR", tc.atr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseATR(%s): %v", tc.atr, err)
			}
			if diff := cmp.Diff(tc.protocols, a.Protocols); diff != "" {
				t.Errorf("protocols (-want +got):\n%s", diff)
			}
			if got := hexs(a.Historical); got != tc.historical {
				t.Errorf("historical bytes %q, want %q", got, tc.historical)
			}
			if a.Contactless() != tc.contactless {
				t.Errorf("Contactless() = %v, want %v", a.Contactless(), tc.contactless)
			}
		})
	}
}

func TestDefinedErr(t *testing.T) {
	for sw, want := range map[uint16]bool{0x6700: true, 0x6A82: true, 0x6D00: true, 0x6E00: true, 0x6B00: true,
		0x9000: false, 0x6701: false, 0x6A83 + 0x10: false, 0x6F00: false, 0x6100: false, 0x6982: false} {
		if got := definedErr(sw); got != want {
			t.Errorf("definedErr(%04X) = %v, want %v", sw, got, want)
		}
	}
}

func TestLatencies(t *testing.T) {
	var l latencies
	for i := 100; i >= 1; i-- {
		l = append(l, time1ms(i))
	}
	if got := l.percentile(0.5); got != time1ms(51) && got != time1ms(50) {
		t.Errorf("median %v", got)
	}
	if got := l.percentile(0.99); got != time1ms(99) {
		t.Errorf("p99 %v, want 99ms", got)
	}
	if got := l.max(); got != time1ms(100) {
		t.Errorf("max %v, want 100ms", got)
	}
}
