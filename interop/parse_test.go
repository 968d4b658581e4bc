package interop

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Outputs as OpenSC 0.23 (Debian 12) prints them for the simulated card.
const listCertificates = `Using reader with a card: Virtual PCD 00 00
X.509 Certificate [User Authentication Certificate]
	Object Flags   : [0x00]
	Authority      : no
	Path           : 000a
	ID             : 01
	Encoded serial : 02 01 01

X.509 Certificate [Digital Signature Certificate]
	Object Flags   : [0x01], private
	Authority      : no
	Path           : 0001
	ID             : 02

X.509 Certificate [User Authentication Certificate CA]
	Object Flags   : [0x00]
	Authority      : yes
	Path           : 000b
	ID             : 03
`

const listPINs = `Using reader with a card: Virtual PCD 00 00
PIN [User Authentication PIN]
	Object Flags   : [0x12], modifiable
	ID             : 01
	Tries left     : 2

PIN [Digital Signature PIN]
	ID             : 02
	Tries left     : 5
`

const listSlots = `Available slots:
Slot 0 (0x0): SCM Microsystems SCR 3310 00 00
  token label        : JPKI (User Authentication PIN)
Slot 1 (0x1): SCM Microsystems SCR 3310 00 00
  token label        : JPKI (Digital Signature PIN)
Slot 2 (0x4): Virtual PCD 00 00
  token label        : JPKI (User Authentication PIN)
  token manufacturer : JPKI
Slot 3 (0x5): Virtual PCD 00 00
  token label        : JPKI (Digital Signature PIN)
Slot 4 (0x8): Virtual PCD 00 01
  (empty)
`

func TestParseCertificates(t *testing.T) {
	want := []CertInfo{
		{Label: "User Authentication Certificate", ID: "01", Path: "000a"},
		{Label: "Digital Signature Certificate", ID: "02", Path: "0001", Private: true},
		{Label: "User Authentication Certificate CA", ID: "03", Path: "000b", Authority: true},
	}
	if d := cmp.Diff(want, ParseCertificates(listCertificates)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := ParseCertificates("Using reader with a card: x\nNo certificates found.\n"); len(got) != 0 {
		t.Errorf("certificates parsed from nothing: %v", got)
	}
}

func TestParsePINTries(t *testing.T) {
	want := map[string]int{"User Authentication PIN": 2, "Digital Signature PIN": 5}
	if d := cmp.Diff(want, ParsePINTries(listPINs)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseSlot(t *testing.T) {
	for _, tc := range []struct{ reader, token, want string }{
		{"Virtual PCD 00 00", AuthToken, "0x4"},
		{"Virtual PCD 00 00", SignToken, "0x5"},
		{"SCM Microsystems SCR 3310 00 00", SignToken, "0x1"},
		{"Virtual PCD 00 01", AuthToken, ""},
		{"Virtual PCD 00", AuthToken, ""},
	} {
		if got := ParseSlot(listSlots, tc.reader, tc.token); got != tc.want {
			t.Errorf("ParseSlot(%q, %q) = %q, want %q", tc.reader, tc.token, got, tc.want)
		}
	}
}
