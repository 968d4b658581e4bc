package cardinfoclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCheckDigit(t *testing.T) {
	// Expected values worked by hand from the algorithm: Σ Pn×Qn, n from the right.
	tests := []struct {
		first11 string
		want    int
		why     string
	}{
		{"53768667718", 8, "myna-card test card 537686677188: Σ = 267, r = 3"},
		{"12345678901", 8, "the default profile's 123456789018: Σ = 212, r = 3"},
		{"00000000000", 0, "Σ = 0, r = 0"},
		{"00000000006", 0, "Σ = 12, r = 1"},
		{"00000000210", 0, "Σ = 3 + 8 = 11, r = 0"},
		{"00000000005", 1, "Σ = 10, r = 10"},
		{"00000000001", 9, "Σ = 2, r = 2"},
		{"10000000000", 5, "P11 = 1, Q11 = 6: Σ = 6, r = 6"},
		{"00001000000", 9, "P7 = 1, Q7 = 2: Σ = 2, r = 2 — Q restarts at 2 after n = 6"},
		{"00000100000", 4, "P6 = 1, Q6 = 7: Σ = 7"},
	}
	for _, tt := range tests {
		t.Run(tt.first11, func(t *testing.T) {
			got, err := CheckDigit(tt.first11)
			if err != nil || got != tt.want {
				t.Errorf("CheckDigit(%s) = %d, %v; want %d (%s)", tt.first11, got, err, tt.want, tt.why)
			}
		})
	}
	for _, bad := range []string{"", "1234567890", "123456789012", "1234567890a", "１２３４５６７８９０１"} {
		if _, err := CheckDigit(bad); err == nil {
			t.Errorf("CheckDigit(%q) accepted", bad)
		}
	}
}

func TestMyNumberValidate(t *testing.T) {
	tests := []struct {
		n    MyNumber
		want error
	}{
		{"537686677188", nil},
		{"123456789018", nil},
		{"537686677187", ErrCheckDigit},
		{"123456789012", ErrCheckDigit},
		{"53768667718", ErrMyNumberFormat},
		{"5376866771880", ErrMyNumberFormat},
		{"53768667718X", ErrMyNumberFormat},
		{"", ErrMyNumberFormat},
	}
	for _, tt := range tests {
		err := tt.n.Validate()
		if (tt.want == nil) != (err == nil) || !errors.Is(err, tt.want) {
			t.Errorf("Validate(%s) = %v, want %v", string(tt.n), err, tt.want)
		}
		if err != nil && len(tt.n) > 4 && strings.Contains(err.Error(), string(tt.n[:5])) {
			t.Errorf("error %q shows the number", err)
		}
	}
}

func TestParseMyNumberFile(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want MyNumber
		err  error
	}{
		{"test card, 17 bytes with filler", myNumberFile(testMyNumber), testMyNumber, nil},
		{"without filler", enc("FF10", []byte(testMyNumber)), testMyNumber, nil},
		{"tex2e-style file of another number", myNumberFile("123456789018"), "123456789018", nil},
		{"wrong check digit", myNumberFile("537686677189"), "", ErrCheckDigit},
		{"CoreExtendedNFC's 10 01 0C is not the card's tag", append(unhexOK("10010C"), []byte(testMyNumber)...), "", ErrTLVInvalid},
		{"11 digits", enc("FF10", []byte("53768667718")), "", ErrMyNumberFormat},
		{"cut short", myNumberFile(testMyNumber)[:10], "", ErrTLVTruncated},
		{"all FF", []byte{0xFF, 0xFF, 0xFF}, "", ErrTLVInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMyNumberFile(tt.file)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("ParseMyNumberFile = %s, %v; want %s, %v", string(got), err, string(tt.want), tt.err)
			}
		})
	}
}

func TestSecretsAreMasked(t *testing.T) {
	n, b := MyNumber(testMyNumber), CodeB(testCodeB)
	j, _ := json.Marshal(struct {
		N MyNumber
		B CodeB
	}{n, b})
	out := fmt.Sprintf("%v %s %q %x %X %d %#v %+v | %v %s %q %x %#v | %s", n, n, n, n, n, n, n, n, b, b, b, b, b, j)
	for _, secret := range []string{testMyNumber, testCodeB, "5376", "0201", "35333736", "3533"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q appears in %q", secret, out)
		}
	}
	if !strings.Contains(out, "****") {
		t.Errorf("no mask in %q", out)
	}
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestEraDate(t *testing.T) {
	tests := []struct {
		day  time.Time
		era  Era
		year int
		want string
	}{
		{date(1990, 1, 2), Heisei, 2, "020102"},
		{date(1980, 2, 17), Showa, 55, "550217"},
		{date(1989, 1, 7), Showa, 64, "640107"},
		{date(1989, 1, 8), Heisei, 1, "010108"},
		{date(2019, 4, 30), Heisei, 31, "310430"},
		{date(2019, 5, 1), Reiwa, 1, "010501"},
		{date(2026, 4, 1), Reiwa, 8, "080401"},
		{date(1926, 12, 24), Taisho, 15, "151224"},
		{date(1926, 12, 25), Showa, 1, "011225"},
		{date(1912, 7, 29), Meiji, 45, "450729"},
		{date(1912, 7, 30), Taisho, 1, "010730"},
		{date(1868, 1, 25), Meiji, 1, "010125"},
		{date(1868, 12, 31), Meiji, 1, "011231"},
	}
	for _, tt := range tests {
		t.Run(tt.day.Format(time.DateOnly), func(t *testing.T) {
			era, y, err := EraOf(tt.day)
			if err != nil || era != tt.era || y != tt.year {
				t.Errorf("EraOf = %v %d, %v; want %v %d", era, y, err, tt.era, tt.year)
			}
			got, err := EraDate(tt.day)
			if err != nil || got != tt.want {
				t.Errorf("EraDate = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := EraDate(date(1868, 1, 24)); !errors.Is(err, ErrBeforeMeiji) {
		t.Errorf("1868-01-24: %v, want ErrBeforeMeiji", err)
	}
	if _, err := EraDate(date(2118, 1, 1)); err == nil {
		t.Error("Reiwa 100 rendered in two digits")
	}
	// The calendar day is read in the time's own location: 1989-01-08 00:30
	// JST is still 1989-01-07 in UTC.
	jst := time.FixedZone("JST", 9*3600)
	if got, _ := EraDate(time.Date(1989, 1, 8, 0, 30, 0, 0, jst)); got != "010108" {
		t.Errorf("JST midnight of Heisei's first day: %q", got)
	}
	if Heisei.String() != "Heisei" || Era(9).String() != "Era(9)" {
		t.Errorf("era names %q %q", Heisei, Era(9))
	}
}

func TestNewCodeB(t *testing.T) {
	tests := []struct {
		name   string
		birth  time.Time
		expiry int
		code   string
		want   CodeB
	}{
		{"default profile", date(1990, 1, 2), 2036, "5678", "02010220365678"},
		{"myna-card's code confirmed on a card", date(1980, 2, 17), 2035, "2285", "55021720352285"},
		{"born in Reiwa", date(2020, 3, 4), 2030, "0001", "02030420300001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewCodeB(tt.birth, tt.expiry, tt.code)
			if err != nil || got != tt.want {
				t.Errorf("NewCodeB = %s, %v; want %s", string(got), err, string(tt.want))
			}
			if err := got.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	for _, bad := range []struct {
		birth  time.Time
		expiry int
		code   string
	}{
		{date(1990, 1, 2), 2036, "567"},
		{date(1990, 1, 2), 2036, "56a8"},
		{date(1990, 1, 2), 36, "5678"},
		{date(1860, 1, 2), 2036, "5678"},
	} {
		_, err := NewCodeB(bad.birth, bad.expiry, bad.code)
		if err == nil {
			t.Errorf("NewCodeB(%v, %d, ...) accepted", bad.birth, bad.expiry)
			continue
		}
		if len(bad.code) == 4 && strings.Contains(err.Error(), bad.code) {
			t.Errorf("error %q shows the security code", err)
		}
	}
	if err := CodeB("0201022036567").Validate(); !errors.Is(err, ErrCodeBFormat) {
		t.Errorf("13 digits: %v", err)
	}
}
