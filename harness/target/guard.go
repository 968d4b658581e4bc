package target

import (
	"fmt"
	"slices"

	"github.com/onsi/ginkgo/v2"
)

// Spec labels the guard reads. A spec carries every label that applies.
const (
	// LabelDestructive: the spec changes the card's persistent state in a
	// way its holder would notice: spends or blocks PIN tries, changes a
	// PIN, rewrites files. On a physical card it runs only with
	// MYNAHIL_ALLOW_DESTRUCTIVE=1 and a MYNAHIL_CARD_FINGERPRINT matching
	// the card in the reader.
	LabelDestructive = "destructive"
	// LabelSimOnly: the spec needs the simulator itself (Target.Issued,
	// card.Modify, the virtual clock, fault injection). Never runs on a
	// physical card.
	LabelSimOnly = "sim-only"
	// LabelPhysicalSafe: the spec was written with real cards in mind and
	// changes nothing persistent (reads, tries-left queries, signatures
	// with a PIN it was given). On a physical card only specs labelled
	// physical-safe or destructive run.
	LabelPhysicalSafe = "physical-safe"
	// LabelNeedsAuthPIN: the spec needs the correct auth PIN
	// (MYNAHIL_AUTH_PIN or the prompt on a physical card).
	LabelNeedsAuthPIN = "needs-auth-pin"
	// LabelNeedsSignPIN: the spec needs the correct sign PIN
	// (MYNAHIL_SIGN_PIN or the prompt on a physical card).
	LabelNeedsSignPIN = "needs-sign-pin"
	// LabelSlow: the spec takes seconds (pcscd polling, many signatures);
	// filter it out with --label-filter='!slow' for a quick run.
	LabelSlow = "slow"
	// LabelInteractive: the spec needs an operator: a person at the
	// reader or the office's counter (MYNAHIL_OPERATOR=terminal), or the
	// scripted office of the rehearsal (MYNAHIL_OPERATOR=sim:ADDR).
	// Without one it is skipped with the reason.
	LabelInteractive = "interactive"
	// LabelNeedsCardInfoPIN: the spec needs the card-info input support
	// applet's PIN (MYNAHIL_CARDINFO_PIN on a physical card).
	LabelNeedsCardInfoPIN = "needs-cardinfo-pin"
)

// Labels documents every label the harness defines.
var Labels = map[string]string{
	LabelDestructive:      "changes persistent card state (PIN tries, PINs, files); physical cards need MYNAHIL_ALLOW_DESTRUCTIVE=1 and a matching MYNAHIL_CARD_FINGERPRINT",
	LabelSimOnly:          "needs the simulator's internals; never runs on a physical card",
	LabelPhysicalSafe:     "reviewed for real cards and changes nothing persistent; the only unlabelled-destructive specs that run on a physical card",
	LabelNeedsAuthPIN:     "needs the correct auth PIN (MYNAHIL_AUTH_PIN or a prompt); skipped on a physical card without it",
	LabelNeedsSignPIN:     "needs the correct sign PIN (MYNAHIL_SIGN_PIN or a prompt); skipped on a physical card without it",
	LabelSlow:             "takes seconds; exclude with --label-filter='!slow'",
	LabelInteractive:      "needs an operator (MYNAHIL_OPERATOR: a person, or the rehearsal's scripted office); skipped without one",
	LabelNeedsCardInfoPIN: "needs the card-info PIN (MYNAHIL_CARDINFO_PIN); skipped on a physical card without it",
}

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
	// AuthBlocked, SignBlocked: the card reported the PIN blocked.
	AuthBlocked, SignBlocked bool
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
//     that PIN was given, and not once the card reports it blocked;
//  5. interactive runs only with an operator.
//
// Simulated targets run everything but interactive specs without an
// operator: their card is fresh and its PINs are known.
//
// Every reason starts with its group ("needs the sign PIN: …"), the text
// the run's summary line counts (package runsummary).
func Decide(labels []string, f Facts) Decision {
	has := func(l string) bool { return slices.Contains(labels, l) }
	if !f.Physical {
		if has(LabelInteractive) && !f.HaveOperator {
			return skip("needs an operator: set %s=terminal (or sim:ADDR for the simulator's office)", EnvOperator)
		}
		return Decision{Run: true}
	}
	switch {
	case has(LabelSimOnly):
		return skip("sim-only: needs the simulator, never runs on a physical card")
	case has(LabelDestructive):
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
			return skip("destructive, left for the final pass: on a physical card destructive specs run after all others, in a run of their own with --label-filter=%s", LabelDestructive)
		}
	case !has(LabelPhysicalSafe):
		return skip("not labelled %s or %s: not run on a physical card", LabelPhysicalSafe, LabelDestructive)
	}
	switch {
	case has(LabelNeedsAuthPIN) && !f.HaveAuthPIN:
		return skip("needs the auth PIN: set MYNAHIL_AUTH_PIN or answer the prompt")
	case has(LabelNeedsSignPIN) && !f.HaveSignPIN:
		return skip("needs the sign PIN: set MYNAHIL_SIGN_PIN or answer the prompt")
	case has(LabelNeedsCardInfoPIN) && !f.HaveCardInfoPIN:
		return skip("needs the card-info PIN: set %s", EnvCardInfoPIN)
	case has(LabelNeedsAuthPIN) && f.AuthBlocked:
		return skip("auth PIN blocked on the card: the office must re-set it")
	case has(LabelNeedsSignPIN) && f.SignBlocked:
		return skip("sign PIN blocked on the card: the office must re-set it")
	case has(LabelInteractive) && !f.HaveOperator:
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
// On a physical card it first asks the card (no try spent) whether the
// PINs the spec needs are blocked.
func (t *Target) Guard() {
	labels := ginkgo.CurrentSpecReport().Labels()
	if t.cfg.Physical && (slices.Contains(labels, LabelNeedsAuthPIN) || slices.Contains(labels, LabelNeedsSignPIN)) {
		t.refreshBlocked()
	}
	if d := t.Decide(labels); !d.Run {
		ginkgo.Skip(d.Reason, 1)
	}
}
