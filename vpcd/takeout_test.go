package vpcd

import (
	"testing"
	"time"
)

// TestTakeOutWaitsForPowerUp: after TakeOut and Insert, the card answers
// APDUs only once the reader has powered it up, as pcscd does after every
// insertion it notices. A reader that sends an APDU first missed the
// removal: the card leaves again without answering, stays out at least
// twice as long, and comes back still waiting for a power-up.
func TestTakeOutWaitsForPowerUp(t *testing.T) {
	d := newRawDriver(t)
	card := &recordingCard{}
	cs := startCardSide(t, card, WithAddr(d.addr()))
	apdu := []byte{0x00, 0xA4, 0x04, 0x00}

	first := d.accept()
	if err := WriteFrame(first, apdu); err != nil {
		t.Fatal(err)
	}
	if got := readFrame(t, first); len(got) < 2 {
		t.Fatalf("a card connected before any TakeOut answers without a power-up: %X", got)
	}

	const out = 100 * time.Millisecond
	cs.TakeOut(out)
	expectClosed(t, first)
	cs.Insert()

	// The reader missed the removal: an APDU on the new connection.
	missed := d.accept()
	if err := WriteFrame(missed, apdu); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, missed)
	left := time.Now()

	again := d.accept()
	if away := time.Since(left); away < 2*out {
		t.Errorf("after a missed removal the card came back after %v, want at least %v", away, 2*out)
	}
	if err := WriteFrame(again, apdu); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, again)

	// A reader that noticed powers the card up first; then APDUs work,
	// and later connections need no power-up.
	noticed := d.accept()
	write(t, noticed, 0x00, 0x01, CtrlPowerOn)
	if err := WriteFrame(noticed, apdu); err != nil {
		t.Fatal(err)
	}
	if got := readFrame(t, noticed); len(got) < 2 {
		t.Fatalf("after POWER_ON: %X", got)
	}
	cs.Remove()
	expectClosed(t, noticed)
	cs.Insert()
	plain := d.accept()
	if err := WriteFrame(plain, apdu); err != nil {
		t.Fatal(err)
	}
	if got := readFrame(t, plain); len(got) < 2 {
		t.Fatalf("a plain Remove/Insert needs no power-up: %X", got)
	}
}
