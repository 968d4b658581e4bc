package card

import (
	"bytes"
	"testing"

	"github.com/mynahil/mynahil/simcard/apdu"
)

// TransmitObserved hands the observer the command as the card parsed it and
// exactly the response it returns; a malformed APDU comes with no command
// and 6700 (the daemon's APDU log relies on both, docs/daemon.md).
func TestTransmitObserved(t *testing.T) {
	c := testCard(t, nil)
	type seen struct {
		cmd  *apdu.Command
		resp []byte
	}
	var got []seen
	obs := func(cmd *apdu.Command, resp []byte) { got = append(got, seen{cmd, resp}) }

	sel := append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(testAID))}, testAID...)
	resp := c.TransmitObserved(sel, obs)
	if len(got) != 1 || !bytes.Equal(got[0].resp, resp) || !bytes.Equal(resp, []byte{0x90, 0x00}) {
		t.Fatalf("SELECT: returned % X, observed %+v", resp, got)
	}
	if cmd := got[0].cmd; cmd == nil || cmd.INS != 0xA4 || cmd.P1 != 0x04 || !bytes.Equal(cmd.Data, testAID) {
		t.Fatalf("observed command %+v, want the SELECT of % X", got[0].cmd, testAID)
	}

	resp = c.TransmitObserved([]byte{0x00, 0x20, 0x00, 0x98, 0x04, '9', '9', '9', '9'}, obs)
	if len(got) != 2 {
		t.Fatalf("VERIFY: %d exchanges observed, want 2", len(got))
	}
	if !bytes.Equal(got[1].resp, resp) || !bytes.Equal(resp, []byte{0x63, 0xC2}) {
		t.Fatalf("VERIFY: returned % X, observed % X", resp, got[1].resp)
	}
	if cmd := got[1].cmd; cmd == nil || cmd.INS != 0x20 || cmd.P2 != 0x98 || len(cmd.Data) != 4 {
		t.Fatalf("observed command %+v, want the VERIFY", got[1].cmd)
	}

	resp = c.TransmitObserved([]byte{0x00, 0xA4, 0x04}, obs)
	if len(got) != 3 {
		t.Fatalf("malformed APDU: %d exchanges observed, want 3", len(got))
	}
	if got[2].cmd != nil || !bytes.Equal(resp, []byte{0x67, 0x00}) || !bytes.Equal(got[2].resp, resp) {
		t.Fatalf("malformed APDU: returned % X, observed %+v", resp, got[2])
	}
	if !bytes.Equal(c.Transmit(sel), []byte{0x90, 0x00}) || len(got) != 3 {
		t.Fatal("Transmit called the observer, or answered differently")
	}
}
