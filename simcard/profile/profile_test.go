package profile

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestMyNumberCheckDigit(t *testing.T) {
	// 12345678901 → Σ = 1·6+0·2... computed independently below.
	tests := map[string]byte{"12345678901": '8', "53768667718": '8', "00000000000": '0'}
	for in, want := range tests {
		got, err := MyNumberCheckDigit(in)
		if err != nil || got != want {
			t.Errorf("MyNumberCheckDigit(%s) = %c, %v; want %c", in, got, err, want)
		}
	}
	if err := CheckMyNumber("123456789012"); err == nil {
		t.Error("wrong check digit accepted")
	}
	if err := CheckMyNumber("12345678901"); err == nil {
		t.Error("11 digits accepted")
	}
}

func TestParse(t *testing.T) {
	p, err := Parse([]byte(`{"holder":{"name":"山田　太郎","address":"大阪府大阪市北区1","birth_date":"2000-02-29","sex":"male"},"issue_date":"2026-03-01","decline_sign":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Holder.BirthDate.Equal(NewDate(2000, time.February, 29).Time) || !p.DeclineSign || p.PINs.Auth != "1234" {
		t.Errorf("parsed %+v", p)
	}
	for name, in := range map[string]string{
		"unknown field":  `{"holdr":{}}`,
		"bad date":       `{"issue_date":"2026/03/01"}`,
		"short auth PIN": `{"pins":{"auth":"123"}}`,
		"lower sign PIN": `{"pins":{"sign":"abcdef"}}`,
		"bad sex":        `{"holder":{"sex":"x"}}`,
		"bad my number":  `{"my_number":"123456789012"}`,
	} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "SIGN2026") || strings.Contains(err.Error(), "abcdef") {
			t.Errorf("%s: error quotes a PIN: %v", name, err)
		}
	}
}

func TestPINsNeverPrinted(t *testing.T) {
	p := Default()
	for _, s := range []string{p.PINs.String(), p.PINs.GoString()} {
		if strings.Contains(s, p.PINs.Sign) || strings.Contains(s, p.PINs.Auth) {
			t.Fatalf("PINs printed: %s", s)
		}
	}
}

func TestNthGivesEachHolderANumberOfItsOwn(t *testing.T) {
	base := Default()
	seen := map[string]int{}
	for i := range 16 {
		p, err := base.Nth(i)
		if err != nil {
			t.Fatalf("holder %d: %v", i, err)
		}
		if err := CheckMyNumber(p.MyNumber); err != nil {
			t.Errorf("holder %d: %s: %v", i, p.MyNumber, err)
		}
		if j, ok := seen[p.MyNumber]; ok {
			t.Errorf("holders %d and %d share the My Number %s", j, i, p.MyNumber)
		}
		seen[p.MyNumber] = i
		if p.Holder != base.Holder || p.PINs != base.PINs {
			t.Errorf("holder %d: changed more than the My Number", i)
		}
	}
	if p, _ := base.Nth(0); p.MyNumber != base.MyNumber {
		t.Errorf("holder 0 is %s, want the profile's own %s", p.MyNumber, base.MyNumber)
	}
	bad := base
	bad.MyNumber = "123456789010"
	if _, err := bad.Nth(1); err == nil {
		t.Error("Nth accepted a My Number with a wrong check digit")
	}
}
