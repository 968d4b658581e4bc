package timing

import (
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
)

func parse(t *testing.T, b ...byte) *apdu.Command {
	t.Helper()
	c, err := apdu.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"", Instant} {
		p, err := Lookup(name)
		if err != nil || !p.IsInstant() || p.Name != Instant {
			t.Errorf("Lookup(%q) = %+v, %v; want the instant profile", name, p, err)
		}
	}
	for _, name := range []string{Contact, Contactless} {
		if p, err := Lookup(name); err != nil || p.IsInstant() || p.Name != name {
			t.Errorf("Lookup(%q) = %+v, %v", name, p, err)
		}
	}
	if _, err := Lookup("warp"); err == nil {
		t.Error("Lookup of an unknown profile succeeded")
	}
}

// The contact profile reproduces the one published per-command figure: a
// READ BINARY of 4 bytes answered 69 82 in 12 ms (OpenSC issue #3169's
// log; docs/card.md §7.1).
func TestContactMatchesTheMeasuredRead(t *testing.T) {
	p, _ := Lookup(Contact)
	got := p.Delay(parse(t, 0x00, 0xB0, 0x00, 0x00, 0x04), 5, 2)
	if d := got - 12*time.Millisecond; d < -500*time.Microsecond || d > 500*time.Microsecond {
		t.Errorf("contact READ BINARY answered 6982: %v, want 12 ms ± 0.5", got)
	}
}

// Each kind of command costs what its part of the profile says: a
// signature adds Sign only when one comes back, a VERIFY with a PIN adds
// PIN, the status query (no data) does not.
func TestDelayByCommand(t *testing.T) {
	p := Profile{Name: "t", Command: time.Millisecond, PerByte: time.Microsecond, Sign: time.Second, PIN: time.Minute}
	sign := parse(t, append(append([]byte{0x80, 0x2A, 0x00, 0x80, 0x03}, 1, 2, 3), 0x00)...)
	verify := parse(t, 0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4')
	query := parse(t, 0x00, 0x20, 0x00, 0x80)
	change := parse(t, 0x00, 0x24, 0x01, 0x80, 0x04, '1', '2', '3', '4')
	intAuth := parse(t, 0x00, 0x88, 0x00, 0x99, 0x01, 0x01, 0x00)
	for _, c := range []struct {
		name     string
		cmd      *apdu.Command
		respLen  int
		wantPart time.Duration
	}{
		{"signature", sign, 258, time.Second},
		{"refused signature", sign, 2, 0},
		{"INTERNAL AUTHENTICATE", intAuth, 258, time.Second},
		{"VERIFY with a PIN", verify, 2, time.Minute},
		{"status query", query, 2, 0},
		{"CHANGE REFERENCE DATA", change, 2, time.Minute},
		{"malformed", nil, 2, 0},
	} {
		want := time.Millisecond + time.Duration(10+c.respLen)*time.Microsecond + c.wantPart
		if got := p.Delay(c.cmd, 10, c.respLen); got != want {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
	}
	if d := (Profile{}).Delay(sign, 10, 258); d != 0 {
		t.Errorf("instant: %v", d)
	}
}
