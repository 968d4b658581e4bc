package target

import (
	"fmt"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness/speclabel"
)

// The labels the guard reads are speclabel's (harness/speclabel), the one
// registry the scenario and conformance suites share.

// Facts are what the guard decides on: the target and the run's opt-ins.
type Facts struct {
	Physical         bool
	AllowDestructive bool   // MYNAHIL_ALLOW_DESTRUCTIVE=1
	WantFingerprint  string // MYNAHIL_CARD_FINGERPRINT, normalised lower-case hex
	CardFingerprint  string // SHA-256 of the auth certificate read from the card; "" if unreadable
	HaveAuthPIN      bool
	HaveSignPIN      bool
	HaveCardInfoPIN  bool
	// HaveOperator: someone performs the office's part (MYNAHIL_OPERATOR).
	HaveOperator bool
	// DestructivePass: the run's label filter selects destructive specs
	// only (a physical card's destructive specs run in a pass of their own,
	// after all others).
	DestructivePass bool
	// AuthWithheld, SignWithheld, CardInfoWithheld: why the PIN budget
	// (harness/pinbudget) does not send that PIN to the card, "" when it
	// may: refused in this run, blocked, or short of tries on the card.
	AuthWithheld, SignWithheld, CardInfoWithheld string
}

// Decision is the guard's verdict on one spec.
type Decision struct {
	Run    bool
	Reason string // why not, when !Run
}

func skip(format string, args ...any) Decision {
	return Decision{Reason: fmt.Sprintf(format, args...)}
}

// Decide applies the physical-card rules to a spec's labels. Simulated
// targets run everything: their card is fresh and its PINs are known. On a
// physical card, in this order:
//
//  1. sim-only never runs;
//  2. destructive runs only with AllowDestructive and a WantFingerprint
//     equal to the card's (so the opt-in names one card, and a different
//     card in the reader is never touched);
//     and only in a pass of their own (DestructivePass), so that no
//     spec that needs a PIN runs after a lockout;
//  3. anything else runs only if labelled physical-safe;
//  4. needs-auth-pin / needs-sign-pin / needs-cardinfo-pin run only when
//     that PIN was given and the PIN budget lets it through (not refused
//     in this run, every try left on the card; harness/pinbudget);
//  5. interactive runs only with an operator.
//
// Simulated targets run everything but interactive specs without an
// operator: their card is fresh and its PINs are known.
//
// Every reason starts with its group ("needs the sign PIN: …"), the text
// the run's summary line counts (package runsummary).
func Decide(labels []string, f Facts) Decision {
	has := func(l speclabel.Label) bool { return speclabel.Has(labels, l) }
	if !f.Physical {
		if has(speclabel.Interactive) && !f.HaveOperator {
			return skip("needs an operator: set %s=terminal (or sim:ADDR for the simulator's office)", EnvOperator)
		}
		return Decision{Run: true}
	}
	switch {
	case has(speclabel.SimOnly):
		return skip("sim-only: needs the simulator, never runs on a physical card")
	case has(speclabel.Destructive):
		switch {
		case !f.AllowDestructive:
			return skip("destructive on a physical card: set MYNAHIL_ALLOW_DESTRUCTIVE=1 and MYNAHIL_CARD_FINGERPRINT to run it")
		case f.WantFingerprint == "":
			return skip("destructive on a physical card: MYNAHIL_CARD_FINGERPRINT (SHA-256 of the auth certificate) must name the card")
		case f.CardFingerprint == "":
			return skip("destructive on a physical card: the card's auth certificate could not be read, so its identity is unknown")
		case f.CardFingerprint != f.WantFingerprint:
			return skip("destructive on a physical card: the card in the reader (%s) is not the one MYNAHIL_CARD_FINGERPRINT names (%s)",
				short(f.CardFingerprint), short(f.WantFingerprint))
		case !f.DestructivePass:
			return skip("destructive, left for the final pass: on a physical card destructive specs run after all others, in a run of their own with --label-filter=%s", speclabel.Destructive)
		}
	case !has(speclabel.PhysicalSafe):
		return skip("not labelled %s or %s: not run on a physical card", speclabel.PhysicalSafe, speclabel.Destructive)
	}
	switch {
	case has(speclabel.NeedsAuthPIN) && !f.HaveAuthPIN:
		return skip("needs the auth PIN: set MYNAHIL_AUTH_PIN or answer the prompt")
	case has(speclabel.NeedsSignPIN) && !f.HaveSignPIN:
		return skip("needs the sign PIN: set MYNAHIL_SIGN_PIN or answer the prompt")
	case has(speclabel.NeedsCardInfoPIN) && !f.HaveCardInfoPIN:
		return skip("needs the card-info PIN: set %s", EnvCardInfoPIN)
	case has(speclabel.NeedsAuthPIN) && f.AuthWithheld != "":
		return skip("%s", f.AuthWithheld)
	case has(speclabel.NeedsSignPIN) && f.SignWithheld != "":
		return skip("%s", f.SignWithheld)
	case has(speclabel.NeedsCardInfoPIN) && f.CardInfoWithheld != "":
		return skip("%s", f.CardInfoWithheld)
	case has(speclabel.Interactive) && !f.HaveOperator:
		return skip("needs an operator: set %s=terminal to be asked at the terminal", EnvOperator)
	}
	return Decision{Run: true}
}

func short(fp string) string {
	if len(fp) > 16 {
		return fp[:16] + "…"
	}
	return fp
}

// Decide applies Decide with this target's facts.
func (t *Target) Decide(labels []string) Decision { return Decide(labels, t.Facts()) }

// Guard skips the running Ginkgo spec when its labels (container labels
// included) must not run on this target. Call it first in a BeforeEach:
//
//	BeforeEach(func() { tgt.Guard() })
//
// On a physical card it first asks the card (no try spent) whether each
// PIN the spec needs shows every try left (pinbudget.Budget.Ready).
func (t *Target) Guard() {
	if d := t.guard(ginkgo.CurrentSpecReport().Labels()); !d.Run {
		ginkgo.Skip(d.Reason, 1)
	}
}

// guard is Guard without Ginkgo: the PIN budget's look at the card, then
// Decide.
func (t *Target) guard(labels []string) Decision {
	if t.cfg.Physical {
		t.refreshWithheld(labels)
	}
	return t.Decide(labels)
}
