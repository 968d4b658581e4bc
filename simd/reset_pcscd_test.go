package simd

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// controlLog is a chip that records the power and reset codes it gets
// from vpcd (docs/vpcd-pcscd.md §3.1), GET_ATR polls left out.
type controlLog struct {
	*card.Card
	mu     sync.Mutex
	events []string
}

func (l *controlLog) add(e string) { l.mu.Lock(); l.events = append(l.events, e); l.mu.Unlock() }
func (l *controlLog) PowerOn()     { l.add("power on"); l.Card.PowerOn() }
func (l *controlLog) PowerOff()    { l.add("power off"); l.Card.PowerOff() }
func (l *controlLog) Reset()       { l.add("reset"); l.Card.Reset() }

// since returns the events after the first n, and how many there are.
func (l *controlLog) since(n int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events[n:]...), len(l.events)
}

// TestReconnectDispositionsThroughPCSCD finds out what the card receives
// through pcscd and vpcd when a PC/SC client reconnects, and what happens
// to a verified PIN (docs/card.md §5.1): SCARD_RESET_CARD reaches it as a
// warm reset (vpcd's 02) and the sign PIN is gone; SCARD_UNPOWER_CARD as
// power off and on; SCARD_LEAVE_CARD not at all, and the PIN stays.
func TestReconnectDispositionsThroughPCSCD(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd")
	}
	pcscdenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	iss, err := is.Issue(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	chip := &controlLog{Card: iss.Card}
	a, err := vpcdslot.Attach(ctx, chip, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Detach(context.Background())
	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := pc.Connect(a.Reader, pcsc.Exclusive)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect := func(step string, apdu []byte, want uint16) {
		t.Helper()
		resp, err := c.Transmit(apdu)
		if err != nil || sw(resp) != want {
			t.Fatalf("%s: % X, %v; want %04X", step, resp, err, want)
		}
	}
	login := func() {
		t.Helper()
		expect("SELECT JPKI", selectJPKI, 0x9000)
		expect("SELECT sign PIN", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x1B}, 0x9000)
		expect("VERIFY sign PIN", append([]byte{0x00, 0x20, 0x00, 0x80, 0x08}, profile.Default().PINs.Sign...), 0x9000)
	}
	readSignCert := func(step string, want uint16) {
		t.Helper()
		expect(step+": SELECT JPKI", selectJPKI, 0x9000)
		expect(step+": SELECT EF 0001", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, 0x9000)
		expect(step+": READ EF 0001", []byte{0x00, 0xB0, 0x00, 0x00, 0x04}, want)
	}
	for _, tc := range []struct {
		name   string
		d      pcsc.Disposition
		events string
		sw     uint16
	}{
		{"SCARD_LEAVE_CARD", pcsc.LeaveCard, "", 0x9000},
		{"SCARD_RESET_CARD", pcsc.ResetCard, "reset", 0x6982},
		{"SCARD_UNPOWER_CARD", pcsc.UnpowerCard, "power off, power on", 0x6982},
	} {
		login()
		_, mark := chip.since(0)
		if err := c.Reconnect(tc.d); err != nil {
			t.Fatalf("reconnect with %s: %v", tc.name, err)
		}
		readSignCert("after "+tc.name, tc.sw)
		got, _ := chip.since(mark)
		t.Logf("reconnect with %s: the card received [%s]; sign PIN afterwards: %04X", tc.name, strings.Join(got, ", "), tc.sw)
		if strings.Join(got, ", ") != tc.events {
			t.Errorf("reconnect with %s: the card received [%s], want [%s]", tc.name, strings.Join(got, ", "), tc.events)
		}
	}
}
