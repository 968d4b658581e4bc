// Package rules holds the date and age rules of the My Number Card and its
// JPKI certificates (docs/lifecycle-rules.md §1 and §3). All dates are calendar
// dates in Japan Standard Time.
package rules

import (
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
)

// Ages and spans from docs/lifecycle-rules.md.
const (
	SignMinAge         = 15 // no signing certificate below this age (§1)
	CertificateYears   = 5  // certificates run to the 5th birthday after issuance (§3)
	AdultCardYears     = 10 // the card itself, for holders aged 18 or more at issuance
	MinorCardYears     = 5  // the card itself, for holders under 18 at issuance
	AdultAge           = 18
	RenewalWindowMonth = 3 // renewal opens 3 months before a certificate expires (§3)
)

func dateOf(t time.Time) (int, time.Month, int) { return t.In(clock.JST).Date() }

// Birthday returns the holder's birthday in the given year. A person born on
// 29 February has their birthday on 28 February in common years: that is the
// day on which Japanese law (年齢計算ニ関スル法律 with Civil Code art. 143)
// lets them reach the next age, so a certificate "valid to the 5th birthday"
// never outlives the day the holder ages.
func Birthday(birth time.Time, year int) time.Time {
	_, m, d := dateOf(birth)
	if m == time.February && d == 29 && !isLeap(year) {
		d = 28
	}
	return clock.Date(year, m, d)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// NthBirthdayAfter returns the n-th birthday strictly after the date of t:
// issued on the birthday itself, that day does not count, so the 5th birthday
// after is exactly five years later.
func NthBirthdayAfter(birth, t time.Time, n int) time.Time {
	y, _, _ := dateOf(t)
	first := Birthday(birth, y)
	if !first.After(clock.Date(dateOf(t))) {
		first = Birthday(birth, y+1)
	}
	fy, _, _ := dateOf(first)
	return Birthday(birth, fy+n-1)
}

// EndOfDay returns the last second of the calendar day of t in JST.
func EndOfDay(t time.Time) time.Time {
	return clock.Date(dateOf(t)).Add(24*time.Hour - time.Second)
}

// Age returns the holder's age in whole years at t.
func Age(birth, t time.Time) int {
	ty, _, _ := dateOf(t)
	by, _, _ := dateOf(birth)
	age := ty - by
	if clock.Date(dateOf(t)).Before(Birthday(birth, ty)) {
		age--
	}
	return age
}

// CardExpiry is the last moment the card itself is valid: the 10th birthday
// after issuance for holders of 18 or more, the 5th for younger holders
// (docs/lifecycle-rules.md §3).
func CardExpiry(birth, issued time.Time) time.Time {
	n := AdultCardYears
	if Age(birth, issued) < AdultAge {
		n = MinorCardYears
	}
	return EndOfDay(NthBirthdayAfter(birth, issued, n))
}

// CertificateExpiry is the last moment a certificate issued at issued is
// valid: the end of the holder's 5th birthday after issuance, and never after
// the card's own expiry (docs/lifecycle-rules.md §1, §3).
func CertificateExpiry(birth, issued, cardExpiry time.Time) time.Time {
	exp := EndOfDay(NthBirthdayAfter(birth, issued, CertificateYears))
	if !cardExpiry.IsZero() && cardExpiry.Before(exp) {
		return cardExpiry
	}
	return exp
}

// RenewalOpens is the first moment a certificate expiring at expiry may be
// renewed: 3 months before the expiry date (docs/lifecycle-rules.md §3).
func RenewalOpens(expiry time.Time) time.Time {
	return clock.Date(dateOf(expiry.AddDate(0, -RenewalWindowMonth, 0)))
}

// MaySign reports whether a holder may hold a signing certificate at t.
func MaySign(birth, t time.Time, underGuardianship bool) bool {
	return !underGuardianship && Age(birth, t) >= SignMinAge
}
