package rules

import (
	"testing"
	"time"
)

// TestCardExpiryAtEighteen: a holder exactly 18 at issuance is an adult
// and gets a 10-year card; the day before the 18th birthday gets a 5-year
// one (docs/lifecycle-rules.md §3: "10th birthday after issuance for adults, 5th
// for under-18s").
func TestCardExpiryAtEighteen(t *testing.T) {
	birth := d(2008, time.January, 10)
	for _, tc := range []struct {
		name   string
		issued time.Time
		years  int
	}{
		{"18th birthday", d(2026, time.January, 10), AdultCardYears},
		{"day after the 18th birthday", d(2026, time.January, 11), AdultCardYears},
		{"day before the 18th birthday", d(2026, time.January, 9), MinorCardYears},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CardExpiry(birth, tc.issued)
			want := EndOfDay(NthBirthdayAfter(birth, tc.issued, tc.years))
			if !got.Equal(want) {
				t.Errorf("card issued %s to a holder born %s expires %s, want %s (%d-year card)",
					tc.issued.Format(time.DateOnly), birth.Format(time.DateOnly),
					got.Format(time.DateOnly), want.Format(time.DateOnly), tc.years)
			}
			if span := got.Year() - tc.issued.Year(); span < tc.years-1 || span > tc.years {
				t.Errorf("card valid about %d years, want %d", span, tc.years)
			}
		})
	}
}
