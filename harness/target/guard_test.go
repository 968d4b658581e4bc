package target

import (
	"errors"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/pinbudget/fakecard"
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
	authBlocked.AuthWithheld = "auth PIN blocked on the card: the office must re-set it"
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

// TestGuardAsksTheCard goes through the guard (the PIN budget's look at the
// card, then Decide) on a physical target whose card shows a PIN blocked
// (63C0) or short of tries (63C1, 63C2): the specs that need that PIN are
// skipped with the reason, no VERIFY with data is sent, and the specs that
// need another PIN still run (issue 23.8; docs/physical-cards.md).
func TestGuardAsksTheCard(t *testing.T) {
	needsAuth := []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)}
	needsSign := []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsSignPIN)}
	needsCardInfo := []string{string(speclabel.PhysicalSafe), string(speclabel.NeedsCardInfoPIN)}
	for _, tc := range []struct {
		name       string
		key        pinbudget.Key
		left       int
		labels     []string
		run        bool
		reason     string
		otherLabel []string // a spec needing another PIN: runs
	}{
		{"auth PIN full", pinbudget.Auth, 3, needsAuth, true, "", needsSign},
		{"auth PIN blocked (63C0)", pinbudget.Auth, 0, needsAuth, false, "auth PIN blocked on the card", needsSign},
		{"auth PIN 63C1", pinbudget.Auth, 1, needsAuth, false, "the auth PIN was not sent, the card shows 1 of 3 tries left", needsSign},
		{"auth PIN 63C2", pinbudget.Auth, 2, needsAuth, false, "the auth PIN was not sent, the card shows 2 of 3 tries left", needsSign},
		{"sign PIN blocked (63C0)", pinbudget.Sign, 0, needsSign, false, "sign PIN blocked on the card", needsAuth},
		{"sign PIN 63C4", pinbudget.Sign, 4, needsSign, false, "the sign PIN was not sent, the card shows 4 of 5 tries left", needsAuth},
		{"card-info PIN blocked (63C0)", pinbudget.CardInfo, 0, needsCardInfo, false, "card-info PIN blocked on the card", needsAuth},
		{"card-info PIN 63C2", pinbudget.CardInfo, 2, needsCardInfo, false, "the card-info PIN was not sent, the card shows 2 of 3 tries left", needsSign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakecard.New(
				&fakecard.PIN{AID: pinbudget.Auth.AID, EF: pinbudget.Auth.EF, Value: "1234", Max: 3, Left: 3},
				&fakecard.PIN{AID: pinbudget.Sign.AID, EF: pinbudget.Sign.EF, Value: "SIGN2026", Max: 5, Left: 5},
				&fakecard.PIN{AID: pinbudget.CardInfo.AID, EF: pinbudget.CardInfo.EF, Value: "1234", Max: 3, Left: 3},
			)
			tgt := &Target{cfg: Config{Kind: PCSC, Reader: "r", Physical: true}, t: c,
				pins: PINs{Auth: "1234", Sign: "SIGN2026", CardInfo: "1234"}}
			tgt.preflight()
			// The card changes after the pre-flight (a lockout, another
			// program): the guard must see it before the next spec.
			for _, p := range c.PINs {
				if p.EF == tc.key.EF {
					p.Left = tc.left
				}
			}
			sent := c.Verifies(tc.key.EF)
			d := tgt.guard(tc.labels)
			if d.Run != tc.run {
				t.Fatalf("guard run = %v (%s), want %v", d.Run, d.Reason, tc.run)
			}
			if !tc.run && !strings.HasPrefix(d.Reason, tc.reason) {
				t.Errorf("reason %q, want it to start %q", d.Reason, tc.reason)
			}
			if n := c.Verifies(tc.key.EF); n != sent {
				t.Errorf("the guard sent %d VERIFYs with data", n-sent)
			}
			if d := tgt.guard(tc.otherLabel); !d.Run {
				t.Errorf("a spec needing another PIN is skipped: %s", d.Reason)
			}
		})
	}
}

// TestGuardAfterARefusedPIN: a mistyped PIN found by the pre-flight skips
// every spec that needs it, with the reason a QA engineer reads, and is
// counted against the run; the card spent one try.
func TestGuardAfterARefusedPIN(t *testing.T) {
	c := fakecard.New(&fakecard.PIN{AID: pinbudget.Auth.AID, EF: pinbudget.Auth.EF, Value: "1234", Max: 3, Left: 3})
	tgt := &Target{cfg: Config{Kind: PCSC, Reader: "r", Physical: true}, t: c, pins: PINs{Auth: "9999"}}
	tgt.preflight()
	const want = "the auth PIN given was refused; 2 of 3 tries left"
	if p := tgt.PINProblems(); len(p) != 1 || !strings.HasPrefix(p[0], want) {
		t.Fatalf("PINProblems = %q, want %q", p, want)
	}
	for range 3 {
		d := tgt.guard([]string{string(speclabel.PhysicalSafe), string(speclabel.NeedsAuthPIN)})
		if d.Run || !strings.HasPrefix(d.Reason, want+":") {
			t.Errorf("guard: run %v, reason %q; want a skip starting %q", d.Run, d.Reason, want)
		}
	}
	// A spec that sends the PIN itself, through the target's transport.
	j := jpkiclient.New(tgt.Transport())
	if err := j.SelectAP(); err != nil {
		t.Fatal(err)
	}
	if err := j.VerifyPIN(jpkiclient.AuthPIN, "9999"); !errors.Is(err, pinbudget.ErrRefused) {
		t.Errorf("VERIFY through the target: %v, want ErrRefused", err)
	}
	if n, left := c.Verifies(pinbudget.Auth.EF), c.Left(pinbudget.Auth.EF); n != 1 || left != 2 {
		t.Errorf("the card received %d VERIFYs and shows %d tries; want 1 and 2 of 3", n, left)
	}
}
