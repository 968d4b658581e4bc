package holder

import (
	"testing"
	"time"
)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, JST) }

func TestFifthBirthdayAfter(t *testing.T) {
	for _, c := range []struct {
		name          string
		birth, issued time.Time
		want          time.Time
	}{
		{"birthday later in the issue year", d(1990, time.June, 15), d(2026, time.April, 1), d(2030, time.June, 15)},
		{"birthday earlier in the issue year", d(1990, time.February, 1), d(2026, time.April, 1), d(2031, time.February, 1)},
		{"issued on the birthday: that day does not count", d(1990, time.April, 1), d(2026, time.April, 1), d(2031, time.April, 1)},
		{"29 February, 5th birthday in a common year", d(1992, time.February, 29), d(2026, time.April, 1), d(2031, time.February, 28)},
		{"29 February, 5th birthday in a leap year", d(1992, time.February, 29), d(2027, time.March, 1), d(2032, time.February, 29)},
		{"issue instant late UTC is the next JST day", d(1990, time.April, 2), time.Date(2026, time.April, 1, 16, 0, 0, 0, time.UTC), d(2031, time.April, 2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := FifthBirthdayAfter(c.birth, c.issued); !got.Equal(c.want) {
				t.Errorf("FifthBirthdayAfter(%s, %s) = %s, want %s", c.birth.Format(time.DateOnly), c.issued, got.Format(time.DateOnly), c.want.Format(time.DateOnly))
			}
		})
	}
}

func TestParseEraDate(t *testing.T) {
	era, got, err := ParseEraDate("419900102")
	if err != nil || era != 4 || !got.Equal(d(1990, time.January, 2)) {
		t.Errorf("ParseEraDate(419900102) = %d, %s, %v", era, got, err)
	}
	for _, bad := range []string{"", "19900102", "9199001020", "819900102", "419901302", "4199001x2"} {
		if _, _, err := ParseEraDate(bad); err == nil {
			t.Errorf("ParseEraDate(%q) accepted", bad)
		}
	}
}
