package office_test

import (
	"testing"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/jpki"
)

// TestGivenUpCertificateStaysUnusable: after the holder gives the auth
// certificate up at the counter the chip still answers READ of EF 000A
// with the revoked certificate (docs/card.md §6.1), the auth PIN reports
// no try left and the key refuses to sign; the signing side is untouched.
func TestGivenUpCertificateStaysUnusable(t *testing.T) {
	o, _ := newOffice(t)
	c := issueCard(t, o, nil)
	if err := o.RevokeCertificate(c.ID, authority.Auth); err != nil {
		t.Fatal(err)
	}
	sw := func(cmd []byte) (uint16, int) {
		r := c.Chip.Transmit(cmd)
		return uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1]), len(r) - 2
	}
	for _, step := range []struct {
		name string
		cmd  []byte
		sw   uint16
		n    int
	}{
		{"SELECT JPKI", append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(jpki.AID))}, jpki.AID...), 0x9000, 0},
		{"SELECT EF 000A", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A}, 0x9000, 0},
		{"READ the revoked certificate's header", []byte{0x00, 0xB0, 0x00, 0x00, 0x04}, 0x9000, 4},
		{"SELECT the auth PIN", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18}, 0x9000, 0},
		{"auth PIN tries left", []byte{0x00, 0x20, 0x00, 0x80}, 0x63C0, 0},
		{"SELECT the auth key", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17}, 0x9000, 0},
		{"sign with it", []byte{0x80, 0x2A, 0x00, 0x80, 0x02, 0x01, 0x02, 0x00}, 0x6982, 0},
		{"sign PIN tries left", []byte{0x00, 0x20, 0x00, 0x9B}, 0x63C5, 0},
	} {
		if got, n := sw(step.cmd); got != step.sw || n != step.n {
			t.Errorf("%s: %04X with %d bytes, want %04X with %d", step.name, got, n, step.sw, step.n)
		}
	}
	if got := presence(t, c); got[0] != 0x8F || got[1] != 0x8F {
		t.Errorf("EF 0008 = % X, want both certificates present", got)
	}
}
