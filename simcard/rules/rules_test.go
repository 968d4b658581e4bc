package rules

import (
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
)

func d(y int, m time.Month, day int) time.Time { return clock.Date(y, m, day) }

func TestCertificateExpiry(t *testing.T) {
	tests := []struct {
		name          string
		birth, issued time.Time
		want          time.Time
	}{
		{"birthday later this year: 1st birthday after is this year", d(1990, 6, 15), d(2026, 1, 10), d(2030, 6, 15)},
		{"birthday earlier this year: 1st birthday after is next year", d(1990, 6, 15), d(2026, 8, 1), d(2031, 6, 15)},
		{"issued on the birthday: that day does not count", d(1990, 6, 15), d(2026, 6, 15), d(2031, 6, 15)},
		{"issued the day before the birthday", d(1990, 6, 15), d(2026, 6, 14), d(2030, 6, 15)},
		{"29 February birth, expiry in a common year is 28 February", d(2000, 2, 29), d(2026, 1, 10), d(2030, 2, 28)},
		{"29 February birth, expiry in a leap year is 29 February", d(2000, 2, 29), d(2027, 3, 1), d(2032, 2, 29)},
		{"29 February birth issued on 28 February of a common year", d(2000, 2, 29), d(2026, 2, 28), d(2031, 2, 28)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CertificateExpiry(tt.birth, tt.issued, time.Time{})
			if want := EndOfDay(tt.want); !got.Equal(want) {
				t.Errorf("CertificateExpiry = %v, want %v", got, want)
			}
		})
	}
}

func TestCertificateNeverOutlivesCard(t *testing.T) {
	birth, issued := d(1990, 6, 15), d(2026, 1, 10)
	card := EndOfDay(d(2030, 1, 1))
	if got := CertificateExpiry(birth, issued, card); !got.Equal(card) {
		t.Errorf("got %v, want the card's expiry %v", got, card)
	}
}

func TestCardExpiry(t *testing.T) {
	if got, want := CardExpiry(d(1990, 6, 15), d(2026, 1, 10)), EndOfDay(d(2035, 6, 15)); !got.Equal(want) {
		t.Errorf("adult card: %v, want %v", got, want)
	}
	if got, want := CardExpiry(d(2012, 6, 15), d(2026, 1, 10)), EndOfDay(d(2030, 6, 15)); !got.Equal(want) {
		t.Errorf("minor card: %v, want %v", got, want)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		birth, at time.Time
		want      int
	}{
		{d(2011, 6, 15), d(2026, 6, 14), 14},
		{d(2011, 6, 15), d(2026, 6, 15), 15},
		{d(2004, 2, 29), d(2019, 2, 27), 14},
		{d(2004, 2, 29), d(2019, 2, 28), 15},
		{d(2004, 2, 29), d(2020, 2, 29), 16},
	}
	for _, tt := range tests {
		if got := Age(tt.birth, tt.at); got != tt.want {
			t.Errorf("Age(%v, %v) = %d, want %d", tt.birth.Format(time.DateOnly), tt.at.Format(time.DateOnly), got, tt.want)
		}
	}
	if MaySign(d(2011, 6, 15), d(2026, 6, 14), false) {
		t.Error("a 14-year-old may sign")
	}
	if !MaySign(d(2011, 6, 15), d(2026, 6, 15), false) || MaySign(d(1980, 1, 1), d(2026, 1, 1), true) {
		t.Error("signing age or guardianship rule wrong")
	}
}

func TestRenewalOpens(t *testing.T) {
	exp := EndOfDay(d(2031, 6, 15))
	if got, want := RenewalOpens(exp), d(2031, 3, 15); !got.Equal(want) {
		t.Errorf("RenewalOpens = %v, want %v", got, want)
	}
}
