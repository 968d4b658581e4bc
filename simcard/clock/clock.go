// Package clock is the one notion of "now" shared by the card, the issuing
// authority, the municipal office and every verifier, so that scenario suites
// can walk a card through years of life in seconds.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// JST is Japan Standard Time (UTC+9, no daylight saving). Dates of birth,
// issue dates and expiry dates are calendar dates in JST.
var JST = time.FixedZone("JST", 9*60*60)

// Real is the wall clock, the default outside tests.
type Real struct{}

// Now returns the current wall-clock time.
func (Real) Now() time.Time { return time.Now() }

// Virtual is a clock that only moves when told to. It is safe for concurrent use.
type Virtual struct {
	mu  sync.Mutex
	now time.Time
}

// NewVirtual returns a virtual clock set to t.
func NewVirtual(t time.Time) *Virtual { return &Virtual{now: t} }

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// Set moves the clock to t (backwards too).
func (v *Virtual) Set(t time.Time) {
	v.mu.Lock()
	v.now = t
	v.mu.Unlock()
}

// Advance moves the clock forward by d.
func (v *Virtual) Advance(d time.Duration) {
	v.mu.Lock()
	v.now = v.now.Add(d)
	v.mu.Unlock()
}

// AddDate moves the clock by calendar years, months and days in JST, with
// time.AddDate's normalisation (31 January + 1 month = 3 March).
func (v *Virtual) AddDate(years, months, days int) {
	v.mu.Lock()
	v.now = v.now.In(JST).AddDate(years, months, days)
	v.mu.Unlock()
}

// Date returns midnight JST of the given calendar date.
func Date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, JST)
}
