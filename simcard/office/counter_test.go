package office_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/office"
)

// TestCounter: an operation that changes the chip takes the card out once
// (however many changes it makes) before the first change and puts it back
// after the last; refusals and operations that leave the chip alone never
// take it out.
func TestCounter(t *testing.T) {
	o, clk := newOffice(t)
	c := issueCard(t, o, nil)
	var log []string
	o.SetCounter(func(id string) func() {
		var tries int
		c.Chip.Inspect(func(st *card.State) { tries = st.DF(jpki.AID).File(jpki.EFAuthPIN).PIN.Left })
		log = append(log, "out "+id+" tries "+string(rune('0'+tries)))
		return func() {
			c.Chip.Inspect(func(st *card.State) { tries = st.DF(jpki.AID).File(jpki.EFAuthPIN).PIN.Left })
			log = append(log, "back "+id+" tries "+string(rune('0'+tries)))
		}
	})
	c.Chip.Modify(func(st *card.State) error { st.DF(jpki.AID).File(jpki.EFAuthPIN).PIN.Left = 1; return nil })
	step := func(what string, err error, want string) {
		t.Helper()
		got := strings.Join(log, ", ")
		log = nil
		if got != want {
			t.Errorf("%s (err %v): counter saw %q, want %q", what, err, got, want)
		}
	}
	err := o.ResetPIN(c.ID, authority.Auth, "12")
	step("reset-pin refused for its format", err, "")
	err = o.ResetPIN(c.ID, authority.Auth, "4321")
	step("reset-pin", err, "out card-1 tries 1, back card-1 tries 3")
	_, err = o.IssueSmartphone(c.ID)
	step("smartphone certificates", err, "")
	clk.Set(clock.Date(2030, time.November, 15)) // both certificates expire on 2031-01-02
	err = o.Renew(c.ID, office.RenewPINs{})
	step("renewal of both certificates", err, "out card-1 tries 3, back card-1 tries 3")
	err = o.ReportLoss(c.ID)
	step("loss report", err, "")
}
