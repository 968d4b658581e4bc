package cardinfo

import (
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
)

// eraStarts are the first days of the Meiji, Taishō, Shōwa, Heisei and Reiwa
// eras.
var eraStarts = []time.Time{
	clock.Date(1868, time.January, 25), clock.Date(1912, time.July, 30), clock.Date(1926, time.December, 25),
	clock.Date(1989, time.January, 8), clock.Date(2019, time.May, 1),
}

// EraDate writes a date as YYMMDD with YY the year within its Japanese era
// (1989-01-07 is Shōwa 64 → "640107", 1989-01-08 is Heisei 1 → "010108").
// It is the 券面AP birth-date key and the first six digits of 照合番号B
// (docs/card.md §3.2, §3.3).
func EraDate(t time.Time) (string, error) {
	t = t.In(clock.JST)
	start := time.Time{}
	for _, s := range eraStarts {
		if !t.Before(s) {
			start = s
		}
	}
	if start.IsZero() {
		return "", fmt.Errorf("writing era date: %s is before the Meiji era", t.Format(time.DateOnly))
	}
	y := t.Year() - start.Year() + 1
	if y > 99 {
		return "", fmt.Errorf("writing era date: era year %d has more than two digits", y)
	}
	return fmt.Sprintf("%02d%s", y, t.Format("0102")), nil
}

// CodeB is 照合番号B: the birth date as era YYMMDD, the Gregorian year of the
// card's expiry and the 4-digit security code, 14 digits in all (docs/card.md
// §3.2, confirmed on a card by myna-card: 1980-02-17, 2035, 2285 →
// 55021720352285). Errors never quote the security code.
func CodeB(birth, cardExpiry time.Time, securityCode string) (string, error) {
	if len(securityCode) != 4 || !allDigits(securityCode) {
		return "", fmt.Errorf("deriving 照合番号B: the security code must be 4 digits")
	}
	d, err := EraDate(birth)
	if err != nil {
		return "", fmt.Errorf("deriving 照合番号B: %w", err)
	}
	y := cardExpiry.In(clock.JST).Year()
	if y < 1000 || y > 9999 {
		return "", fmt.Errorf("deriving 照合番号B: expiry year %d is not 4 digits", y)
	}
	return fmt.Sprintf("%s%04d%s", d, y, securityCode), nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ymd writes a date as the card does: YYYYMMDD in JST.
func ymd(t time.Time) string { return t.In(clock.JST).Format("20060102") }
