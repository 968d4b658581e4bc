package clock

import (
	"testing"
	"time"
)

func TestVirtual(t *testing.T) {
	v := NewVirtual(Date(2026, time.January, 31))
	v.AddDate(0, 0, 1)
	if got := v.Now(); !got.Equal(Date(2026, time.February, 1)) {
		t.Fatalf("after one day: %v", got)
	}
	v.Advance(36 * time.Hour)
	if got := v.Now(); !got.Equal(Date(2026, time.February, 2).Add(12 * time.Hour)) {
		t.Fatalf("after 36h: %v", got)
	}
	v.Set(Date(2000, time.February, 29))
	v.AddDate(1, 0, 0)
	if got := v.Now(); !got.Equal(Date(2001, time.March, 1)) {
		t.Fatalf("AddDate normalisation: %v", got)
	}
	if d := time.Until((Real{}).Now()); d > time.Second || d < -time.Second {
		t.Fatalf("Real is off by %v", d)
	}
}
