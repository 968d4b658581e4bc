package transcript

import (
	"encoding/hex"
	"strings"
	"testing"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func TestShape(t *testing.T) {
	for _, tt := range []struct {
		name, data, shape string
		declared          int
	}{
		{"certificate header", "30 82 06 1F", "30 partial", 1571},
		{"CV certificate header", "7F 21 82 02 33", "7F21 partial", 568},
		{"municipality digits", "31 33 31 30 31", "bytes", 0},
		{"expiry digits starting 0", "30 30 33 36 30 31 30 32", "bytes", 0},
		{"token label", "4A 50 4B 49 41 50", "bytes", 0},
		{"nested private TLV with filler", "FF 20 08 DF 21 02 00 0E DF 22 00 FF FF", "FF20{DF21 DF22} +FF", 11},
		{"two objects", "5F 4E 01 AA 5F 37 01 BB", "5F4E 5F37", 4},
		{"empty", "", "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(tt.data)
			if got := Shape(b); got != tt.shape {
				t.Errorf("Shape(% X) = %q, want %q", b, got, tt.shape)
			}
			if got := DeclaredLen(b); got != tt.declared {
				t.Errorf("DeclaredLen(% X) = %d, want %d", b, got, tt.declared)
			}
		})
	}
}

func TestParseRefusesBadTranscripts(t *testing.T) {
	good := `{"format":"mynahil-transcript/1","card":"x","recorded_at":"2026-01-01T00:00:00Z","steps":[{"name":"a","command":"00 20 00 80 <auth-pin>","check":"length","sw":"9000","len":0}]}`
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good transcript refused: %v", err)
	}
	for name, bad := range map[string]string{
		"format":      strings.Replace(good, "mynahil-transcript/1", "other/9", 1),
		"check":       strings.Replace(good, `"length"`, `"exact"`, 1),
		"status word": strings.Replace(good, `"9000"`, `"90"`, 1),
		"command":     strings.Replace(good, "<auth-pin>", "<pin>", 1),
		"field":       strings.Replace(good, `"len":0`, `"len":0,"pin":"1234"`, 1),
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCompareTolerance(t *testing.T) {
	step := func(obj int) *Transcript {
		return &Transcript{Steps: []Step{{Name: "cert", Command: "00 B0 00 00 04", Check: CheckSize, SW: "9000", Len: 4, Shape: "30 partial", ObjLen: obj}}}
	}
	for _, tt := range []struct {
		replayed int
		diffs    int
	}{{1571, 0}, {1504, 0}, {1414, 0}, {1413, 1}, {1728, 0}, {1729, 1}} {
		if got := len(Compare(step(1571), step(tt.replayed))); got != tt.diffs {
			t.Errorf("1571 vs %d: %d differences, want %d", tt.replayed, got, tt.diffs)
		}
	}
}
