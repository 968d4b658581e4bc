package target

import (
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/speclabel"
)

func TestDecide(t *testing.T) {
	const fpA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const fpB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	sim := Facts{}
	phys := Facts{Physical: true, CardFingerprint: fpA}
	withPINs := phys
	withPINs.HaveAuthPIN, withPINs.HaveSignPIN = true, true
	optedIn := withPINs
	optedIn.AllowDestructive, optedIn.WantFingerprint = true, fpA
	optedIn.DestructivePass = true
	firstPass := optedIn
	firstPass.DestructivePass = false
	authBlocked := optedIn
	authBlocked.AuthBlocked = true
	withOperator := optedIn
	withOperator.HaveOperator = true

	for _, tc := range []struct {
		name   string
		labels []string
		facts  Facts
		run    bool
		reason string // substring of the skip reason
	}{
		// Simulated targets run everything.
		{"sim: unlabelled", nil, sim, true, ""},
		{"sim: destructive", []string{string(speclabel.Destructive)}, sim, true, ""},
		{"sim: sim-only", []string{string(speclabel.SimOnly)}, sim, true, ""},
		{"sim: needs PINs", []string{string(speclabel.NeedsAuthPIN), string(speclabel.NeedsSignPIN)}, sim, true, ""},
		{"sim: interactive without an operator", []string{string(speclabel.Interactive)}, sim, false, "needs an operator"},
		{"sim: interactive with an operator", []string{string(speclabel.Interactive)}, Facts{HaveOperator: true}, true, ""},

		// sim-only never runs on a physical card, whatever the opt-ins.
		{"physical: sim-only", []string{string(speclabel.SimOnly)}, optedIn, false, "sim-only"},
		{"physical: sim-only + physical-safe", []string{string(speclabel.SimOnly), string(speclabel.PhysicalSafe)}, optedIn, false, "sim-only"},
		{"physical: sim-only + destructive, opted in", []string{string(speclabel.SimOnly), string(speclabel.Destructive)}, optedIn, false, "sim-only"},

		// Unlabelled specs do not run on a physical card.
		{"physical: unlabelled", nil, withPINs, false, "physical-safe"},
		{"physical: slow only", []string{string(speclabel.Slow)}, withPINs, false, "physical-safe"},
		{"physical: physical-safe", []string{string(speclabel.PhysicalSafe)}, phys, true, ""},

		// PINs.
		{"physical: needs auth PIN, none given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)}, phys, false, "auth PIN"},
		{"physical: needs sign PIN, none given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsSignPIN)}, phys, false, "sign PIN"},
		{"physical: needs auth PIN, given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)}, withPINs, true, ""},
		{"physical: needs sign PIN, only auth given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsSignPIN)},
			Facts{Physical: true, HaveAuthPIN: true}, false, "sign PIN"},

		// Destructive: opt-in AND matching identity.
		{"physical: destructive, no opt-in", []string{string(speclabel.Destructive)}, withPINs, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive, fingerprint but no opt-in", []string{string(speclabel.Destructive)},
			Facts{Physical: true, CardFingerprint: fpA, WantFingerprint: fpA}, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive, opt-in without fingerprint", []string{string(speclabel.Destructive)},
			Facts{Physical: true, CardFingerprint: fpA, AllowDestructive: true}, false, "must name the card"},
		{"physical: destructive, other card in the reader", []string{string(speclabel.Destructive)},
			Facts{Physical: true, CardFingerprint: fpB, AllowDestructive: true, WantFingerprint: fpA}, false, "is not the one"},
		{"physical: destructive, card identity unreadable", []string{string(speclabel.Destructive)},
			Facts{Physical: true, AllowDestructive: true, WantFingerprint: fpA}, false, "identity is unknown"},
		{"physical: destructive, opted in, matching card", []string{string(speclabel.Destructive)}, optedIn, true, ""},
		{"physical: destructive + physical-safe, no opt-in", []string{string(speclabel.Destructive), string(speclabel.PhysicalSafe)}, withPINs, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive needing a PIN not given", []string{string(speclabel.Destructive), string(speclabel.NeedsSignPIN)},
			Facts{Physical: true, CardFingerprint: fpA, AllowDestructive: true, WantFingerprint: fpA, HaveAuthPIN: true, DestructivePass: true}, false, "sign PIN"},

		// Destructive specs run in a pass of their own, after all others.
		{"physical: destructive, opted in, pass with other specs", []string{string(speclabel.Destructive)}, firstPass, false, "final pass"},
		{"physical: physical-safe in the first pass", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)}, firstPass, true, ""},

		// A blocked PIN: specs that need it skip, others run.
		{"physical: needs the auth PIN, blocked", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)}, authBlocked, false, "auth PIN blocked"},
		{"physical: needs the sign PIN, auth blocked", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsSignPIN)}, authBlocked, true, ""},

		// The card-info PIN and the operator.
		{"physical: needs the card-info PIN, none given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsCardInfoPIN)}, optedIn, false, "needs the card-info PIN"},
		{"physical: needs the card-info PIN, given", []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsCardInfoPIN)}, Facts{Physical: true, HaveCardInfoPIN: true}, true, ""},
		{"physical: interactive, no operator", []string{string(speclabel.Destructive), string(speclabel.Interactive)}, optedIn, false, "needs an operator"},
		{"physical: interactive, operator", []string{string(speclabel.Destructive), string(speclabel.Interactive)}, withOperator, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.labels, tc.facts)
			if d.Run != tc.run {
				t.Fatalf("Decide(%q) run = %v (%s), want %v", tc.labels, d.Run, d.Reason, tc.run)
			}
			if !tc.run && !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not mention %q", d.Reason, tc.reason)
			}
			if tc.run && d.Reason != "" {
				t.Errorf("a spec that runs has a skip reason %q", d.Reason)
			}
		})
	}
}
