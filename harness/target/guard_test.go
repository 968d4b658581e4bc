package target

import (
	"strings"
	"testing"
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
		{"sim: destructive", []string{LabelDestructive}, sim, true, ""},
		{"sim: sim-only", []string{LabelSimOnly}, sim, true, ""},
		{"sim: needs PINs", []string{LabelNeedsAuthPIN, LabelNeedsSignPIN}, sim, true, ""},
		{"sim: interactive without an operator", []string{LabelInteractive}, sim, false, "needs an operator"},
		{"sim: interactive with an operator", []string{LabelInteractive}, Facts{HaveOperator: true}, true, ""},

		// sim-only never runs on a physical card, whatever the opt-ins.
		{"physical: sim-only", []string{LabelSimOnly}, optedIn, false, "sim-only"},
		{"physical: sim-only + physical-safe", []string{LabelSimOnly, LabelPhysicalSafe}, optedIn, false, "sim-only"},
		{"physical: sim-only + destructive, opted in", []string{LabelSimOnly, LabelDestructive}, optedIn, false, "sim-only"},

		// Unlabelled specs do not run on a physical card.
		{"physical: unlabelled", nil, withPINs, false, "physical-safe"},
		{"physical: slow only", []string{LabelSlow}, withPINs, false, "physical-safe"},
		{"physical: physical-safe", []string{LabelPhysicalSafe}, phys, true, ""},

		// PINs.
		{"physical: needs auth PIN, none given", []string{LabelPhysicalSafe, LabelNeedsAuthPIN}, phys, false, "auth PIN"},
		{"physical: needs sign PIN, none given", []string{LabelPhysicalSafe, LabelNeedsSignPIN}, phys, false, "sign PIN"},
		{"physical: needs auth PIN, given", []string{LabelPhysicalSafe, LabelNeedsAuthPIN}, withPINs, true, ""},
		{"physical: needs sign PIN, only auth given", []string{LabelPhysicalSafe, LabelNeedsSignPIN},
			Facts{Physical: true, HaveAuthPIN: true}, false, "sign PIN"},

		// Destructive: opt-in AND matching identity.
		{"physical: destructive, no opt-in", []string{LabelDestructive}, withPINs, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive, fingerprint but no opt-in", []string{LabelDestructive},
			Facts{Physical: true, CardFingerprint: fpA, WantFingerprint: fpA}, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive, opt-in without fingerprint", []string{LabelDestructive},
			Facts{Physical: true, CardFingerprint: fpA, AllowDestructive: true}, false, "must name the card"},
		{"physical: destructive, other card in the reader", []string{LabelDestructive},
			Facts{Physical: true, CardFingerprint: fpB, AllowDestructive: true, WantFingerprint: fpA}, false, "is not the one"},
		{"physical: destructive, card identity unreadable", []string{LabelDestructive},
			Facts{Physical: true, AllowDestructive: true, WantFingerprint: fpA}, false, "identity is unknown"},
		{"physical: destructive, opted in, matching card", []string{LabelDestructive}, optedIn, true, ""},
		{"physical: destructive + physical-safe, no opt-in", []string{LabelDestructive, LabelPhysicalSafe}, withPINs, false, "MYNAHIL_ALLOW_DESTRUCTIVE"},
		{"physical: destructive needing a PIN not given", []string{LabelDestructive, LabelNeedsSignPIN},
			Facts{Physical: true, CardFingerprint: fpA, AllowDestructive: true, WantFingerprint: fpA, HaveAuthPIN: true, DestructivePass: true}, false, "sign PIN"},

		// Destructive specs run in a pass of their own, after all others.
		{"physical: destructive, opted in, pass with other specs", []string{LabelDestructive}, firstPass, false, "final pass"},
		{"physical: physical-safe in the first pass", []string{LabelPhysicalSafe, LabelNeedsAuthPIN}, firstPass, true, ""},

		// A blocked PIN: specs that need it skip, others run.
		{"physical: needs the auth PIN, blocked", []string{LabelPhysicalSafe, LabelNeedsAuthPIN}, authBlocked, false, "auth PIN blocked"},
		{"physical: needs the sign PIN, auth blocked", []string{LabelPhysicalSafe, LabelNeedsSignPIN}, authBlocked, true, ""},

		// The card-info PIN and the operator.
		{"physical: needs the card-info PIN, none given", []string{LabelPhysicalSafe, LabelNeedsCardInfoPIN}, optedIn, false, "needs the card-info PIN"},
		{"physical: needs the card-info PIN, given", []string{LabelPhysicalSafe, LabelNeedsCardInfoPIN}, Facts{Physical: true, HaveCardInfoPIN: true}, true, ""},
		{"physical: interactive, no operator", []string{LabelDestructive, LabelInteractive}, optedIn, false, "needs an operator"},
		{"physical: interactive, operator", []string{LabelDestructive, LabelInteractive}, withOperator, true, ""},
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

func TestLabelsDocumented(t *testing.T) {
	for _, l := range []string{LabelDestructive, LabelSimOnly, LabelPhysicalSafe, LabelNeedsAuthPIN, LabelNeedsSignPIN, LabelSlow, LabelInteractive, LabelNeedsCardInfoPIN} {
		if Labels[l] == "" {
			t.Errorf("label %q has no description", l)
		}
	}
}
