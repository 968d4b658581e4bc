package office_test

import (
	"testing"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// verifyRight sends the right PIN of a kind to the chip and returns the
// status word.
func verifyRight(t *testing.T, c *office.Card, k authority.Kind) uint16 {
	t.Helper()
	ef, pin := jpki.EFAuthPIN, profile.Default().PINs.Auth
	if k == authority.Sign {
		ef, pin = jpki.EFSignPIN, profile.Default().PINs.Sign
	}
	for _, cmd := range [][]byte{
		append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(jpki.AID))}, jpki.AID...),
		{0x00, 0xA4, 0x02, 0x0C, 0x02, byte(ef >> 8), byte(ef)},
	} {
		if r := c.Chip.Transmit(cmd); len(r) != 2 || r[0] != 0x90 {
			t.Fatalf("% X answered % X", cmd, r)
		}
	}
	r := c.Chip.Transmit(append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...))
	return uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
}

// TestRemovedCertificateBlocksItsPIN: when the office takes a certificate
// off the chip (change of facts, giving it up, death, moving abroad,
// invalidation), that certificate's PIN is blocked, as on a card that never
// had the certificate: the right PIN answers 6984, never 9000. A PIN whose
// certificate stays answers 9000.
func TestRemovedCertificateBlocksItsPIN(t *testing.T) {
	moved := profile.Default().Holder
	moved.Address = "大阪府大阪市北区試験町二丁目"
	for _, tt := range []struct {
		name    string
		op      func(o *office.Office, id string) error
		removed []authority.Kind
		kept    []authority.Kind
	}{
		{"change of facts", func(o *office.Office, id string) error { return o.ChangeFacts(id, moved) },
			[]authority.Kind{authority.Sign}, []authority.Kind{authority.Auth}},
		{"signing certificate revoked", func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Sign) },
			[]authority.Kind{authority.Sign}, []authority.Kind{authority.Auth}},
		{"auth certificate revoked", func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Auth) },
			[]authority.Kind{authority.Auth}, []authority.Kind{authority.Sign}},
		{"death", func(o *office.Office, id string) error { return o.RecordDeath(id) },
			[]authority.Kind{authority.Auth, authority.Sign}, nil},
		{"moving abroad", func(o *office.Office, id string) error { return o.MoveAbroad(id) },
			[]authority.Kind{authority.Auth, authority.Sign}, nil},
		{"card invalidated", func(o *office.Office, id string) error { return o.InvalidateCard(id) },
			[]authority.Kind{authority.Auth, authority.Sign}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := newOffice(t)
			c := issueCard(t, o, nil)
			if err := tt.op(o, c.ID); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.removed {
				if sw := verifyRight(t, c, k); sw != 0x6984 {
					t.Errorf("%s PIN of the removed certificate: VERIFY with the right PIN answered %04X, want 6984 (blocked)", k, sw)
				}
			}
			for _, k := range tt.kept {
				if sw := verifyRight(t, c, k); sw != 0x9000 {
					t.Errorf("%s PIN of the kept certificate: VERIFY with the right PIN answered %04X, want 9000", k, sw)
				}
			}
		})
	}
}
