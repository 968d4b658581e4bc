package office_test

import (
	"bytes"
	"testing"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
)

// TestCardFound: a loss report revokes both certificates and closes the
// counter to the card; the card found re-opens it, its revoked
// certificates stay revoked, and the office issues new ones with new keys
// (docs/lifecycle-rules.md §1, "A lost card found").
func TestCardFound(t *testing.T) {
	o, _ := newOffice(t)
	c := issueCard(t, o, nil)
	if got := rule(o.CardFound(c.ID)); got != office.RuleCardNotLost {
		t.Fatalf("card found before any loss report: %q, want %s", got, office.RuleCardNotLost)
	}
	if err := o.ReportLoss(c.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := o.Report(c.ID)
	if got := rule(o.IssueCertificate(c.ID, authority.Auth, "1234")); got != office.RuleCardLost {
		t.Fatalf("issuing on a lost card: %q, want %s", got, office.RuleCardLost)
	}
	if err := o.CardFound(c.ID); err != nil {
		t.Fatal(err)
	}
	r, _ := o.Report(c.ID)
	if r.Status != string(office.Active) {
		t.Fatalf("status after card found: %s, want active", r.Status)
	}
	for _, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
		if st := r.Certificate(k, simapi.OnCard).State; st != "revoked" {
			t.Errorf("%s certificate after card found: %s, want still revoked", k, st)
		}
	}
	if err := o.IssueCertificate(c.ID, authority.Auth, "1234"); err != nil {
		t.Fatal(err)
	}
	if err := o.IssueCertificate(c.ID, authority.Sign, "SIGN2026"); err != nil {
		t.Fatal(err)
	}
	after, _ := o.Report(c.ID)
	for _, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
		old, now := before.Certificate(k, simapi.OnCard), after.Certificate(k, simapi.OnCard)
		if now.State != "valid" || now.Serial == old.Serial || bytes.Equal(now.DER, old.DER) {
			t.Errorf("%s certificate re-issued: %s #%d (was #%d), want a new valid one", k, now.State, now.Serial, old.Serial)
		}
	}
}

// TestResetCardInfoPIN: the office re-sets a blocked card-info PIN to a
// new value with every try (docs/lifecycle-rules.md §1), and refuses a
// value of the wrong format without touching the card.
func TestResetCardInfoPIN(t *testing.T) {
	o, _ := newOffice(t)
	c := issueCard(t, o, nil)
	selText := []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}
	verify := func(pin string) []byte {
		c.Chip.Transmit(selText)
		return c.Chip.Transmit(append([]byte{0x00, 0x20, 0x00, 0x80 | 0x11, byte(len(pin))}, pin...))
	}
	for range 3 {
		verify("9999")
	}
	if r := verify("1234"); !bytes.Equal(r, []byte{0x69, 0x84}) {
		t.Fatalf("the right PIN after three wrong ones: % X, want 69 84", r)
	}
	if got := rule(o.ResetCardInfoPIN(c.ID, "12a4")); got != office.RulePINFormat {
		t.Fatalf("re-set to 12a4: %q, want %s", got, office.RulePINFormat)
	}
	if err := o.ResetCardInfoPIN(c.ID, "4321"); err != nil {
		t.Fatal(err)
	}
	c.Chip.Transmit(selText)
	if r := c.Chip.Transmit([]byte{0x00, 0x20, 0x00, 0x91}); !bytes.Equal(r, []byte{0x63, 0xC3}) {
		t.Fatalf("tries after the re-set: % X, want 63 C3", r)
	}
	if r := verify("4321"); !bytes.Equal(r, []byte{0x90, 0x00}) {
		t.Fatalf("the new PIN: % X, want 90 00", r)
	}
}
