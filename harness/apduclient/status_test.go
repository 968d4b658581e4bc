package apduclient

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in   string
		data string
		sw   uint16
	}{
		{"90 00", "", 0x9000},
		{"01 02 03 90 00", "01 02 03", 0x9000},
		{"63 C2", "", 0x63C2},
		{"AA 6A 82", "AA", 0x6A82},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseResponse(mustHex(t, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Data, mustHex(t, tt.data)) || r.SW != tt.sw {
				t.Errorf("got data % X SW %04X, want %s / %04X", r.Data, r.SW, tt.data, tt.sw)
			}
		})
	}
	for _, in := range []string{"", "90"} {
		if _, err := ParseResponse(mustHex(t, in)); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("ParseResponse(%q) error = %v, want ErrMalformedResponse", in, err)
		}
	}
}

func TestParseResponseDataCannotGrowIntoSW(t *testing.T) {
	b := mustHex(t, "01 02 90 00")
	r, _ := ParseResponse(b)
	r.Data = append(r.Data, 0xFF)
	if !bytes.Equal(b, mustHex(t, "01 02 90 00")) {
		t.Errorf("appending to Data overwrote the status word: % X", b)
	}
}

func TestCheck(t *testing.T) {
	data, err := Check(mustHex(t, "0A 0B 90 00"))
	if err != nil || !bytes.Equal(data, []byte{0x0A, 0x0B}) {
		t.Errorf("Check(9000) = % X, %v", data, err)
	}
	_, err = Check(mustHex(t, "69 82"))
	if !errors.Is(err, ErrSecurityStatusNotSatisfied) {
		t.Errorf("Check(6982) = %v, want ErrSecurityStatusNotSatisfied", err)
	}
}

func TestStatusSentinels(t *testing.T) {
	all := map[string]error{
		"ErrWrongPIN":                   ErrWrongPIN,
		"ErrPINBlocked":                 ErrPINBlocked,
		"ErrWrongLength":                ErrWrongLength,
		"ErrIncompatibleFileStructure":  ErrIncompatibleFileStructure,
		"ErrSecurityStatusNotSatisfied": ErrSecurityStatusNotSatisfied,
		"ErrAuthMethodBlocked":          ErrAuthMethodBlocked,
		"ErrRefDataNotUsable":           ErrRefDataNotUsable,
		"ErrConditionsNotSatisfied":     ErrConditionsNotSatisfied,
		"ErrWrongData":                  ErrWrongData,
		"ErrFileNotFound":               ErrFileNotFound,
		"ErrIncorrectP1P2":              ErrIncorrectP1P2,
		"ErrDataNotFound":               ErrDataNotFound,
		"ErrWrongOffset":                ErrWrongOffset,
		"ErrINSNotSupported":            ErrINSNotSupported,
		"ErrCLANotSupported":            ErrCLANotSupported,
	}
	tests := []struct {
		sw    uint16
		match []string
	}{
		{0x63C3, []string{"ErrWrongPIN"}},
		{0x63C1, []string{"ErrWrongPIN"}},
		{0x63C0, []string{"ErrWrongPIN", "ErrPINBlocked"}},
		{0x6983, []string{"ErrAuthMethodBlocked", "ErrPINBlocked"}},
		{0x6984, []string{"ErrRefDataNotUsable", "ErrPINBlocked"}},
		{0x6700, []string{"ErrWrongLength"}},
		{0x6981, []string{"ErrIncompatibleFileStructure"}},
		{0x6982, []string{"ErrSecurityStatusNotSatisfied"}},
		{0x6985, []string{"ErrConditionsNotSatisfied"}},
		{0x6A80, []string{"ErrWrongData"}},
		{0x6A82, []string{"ErrFileNotFound"}},
		{0x6A86, []string{"ErrIncorrectP1P2"}},
		{0x6A88, []string{"ErrDataNotFound"}},
		{0x6B00, []string{"ErrWrongOffset"}},
		{0x6D00, []string{"ErrINSNotSupported"}},
		{0x6E00, []string{"ErrCLANotSupported"}},
		{0x6300, nil},
		{0x6283, nil},
		{0x6F00, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%04X", tt.sw), func(t *testing.T) {
			err := CheckSW(tt.sw)
			if err == nil {
				t.Fatal("CheckSW returned nil")
			}
			wrapped := fmt.Errorf("reading EF: %w", err)
			want := map[string]bool{}
			for _, m := range tt.match {
				want[m] = true
			}
			for name, sentinel := range all {
				if got := errors.Is(wrapped, sentinel); got != want[name] {
					t.Errorf("errors.Is(%v, %s) = %v, want %v", wrapped, name, got, want[name])
				}
			}
			if sw, ok := StatusOf(wrapped); !ok || sw != tt.sw {
				t.Errorf("StatusOf = %04X, %v; want %04X", sw, ok, tt.sw)
			}
			if !errors.Is(wrapped, &StatusError{SW: tt.sw}) {
				t.Errorf("errors.Is(err, &StatusError{%04X}) = false", tt.sw)
			}
			if errors.Is(wrapped, &StatusError{SW: tt.sw ^ 1}) {
				t.Errorf("errors.Is(err, &StatusError{%04X}) = true", tt.sw^1)
			}
		})
	}
}

func TestCheckSWSuccess(t *testing.T) {
	if err := CheckSW(0x9000); err != nil {
		t.Errorf("CheckSW(9000) = %v", err)
	}
	if _, ok := StatusOf(nil); ok {
		t.Error("StatusOf(nil) reported a status word")
	}
	if _, ok := StatusOf(errors.New("io")); ok {
		t.Error("StatusOf(plain error) reported a status word")
	}
}

func TestWrongPINTriesLeft(t *testing.T) {
	for x := range 16 {
		sw := uint16(0x63C0 | x)
		err := fmt.Errorf("verifying PIN: %w", CheckSW(sw))
		var wp *WrongPINError
		if !errors.As(err, &wp) {
			t.Fatalf("%04X: errors.As(*WrongPINError) failed on %v", sw, err)
		}
		if wp.TriesLeft != x || wp.SW() != sw {
			t.Errorf("%04X: TriesLeft %d SW %04X", sw, wp.TriesLeft, wp.SW())
		}
	}
	var wp *WrongPINError
	if errors.As(CheckSW(0x6984), &wp) {
		t.Error("6984 unwrapped to a *WrongPINError")
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		sw   uint16
		want string
	}{
		{0x63C2, "wrong PIN, 2 tries left (SW 63C2)"},
		{0x63C0, "wrong PIN, no tries left: PIN blocked (SW 63C0)"},
		{0x63C1, "wrong PIN, 1 try left (SW 63C1)"},
		{0x6982, "card returned SW 6982 (security status not satisfied)"},
		{0x6A82, "card returned SW 6A82 (file or application not found)"},
		{0x1234, "card returned SW 1234 (unknown status)"},
	}
	for _, tt := range tests {
		if got := CheckSW(tt.sw).Error(); got != tt.want {
			t.Errorf("CheckSW(%04X).Error() = %q, want %q", tt.sw, got, tt.want)
		}
	}
}

// FuzzParseResponse checks that the parser never panics, splits off exactly
// two status bytes and agrees with CheckSW.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"9000", "63C2", "", "90", "0102039000", "6A82"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if len(b) < 2 {
			if err == nil {
				t.Fatalf("accepted %d bytes", len(b))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Data) != len(b)-2 || int(r.SW>>8) != int(b[len(b)-2]) || byte(r.SW) != b[len(b)-1] {
			t.Fatalf("split % X into % X / %04X", b, r.Data, r.SW)
		}
		if (r.Err() == nil) != (r.SW == 0x9000) {
			t.Fatalf("SW %04X: Err() = %v", r.SW, r.Err())
		}
	})
}
