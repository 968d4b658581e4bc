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
	// LabelInteractive: the spec needs a person at the reader (insert or
	// remove a physical card). Select it explicitly with --label-filter.
	LabelInteractive = "interactive"
)

// Labels documents every label the harness defines.
var Labels = map[string]string{
	LabelDestructive:  "changes persistent card state (PIN tries, PINs, files); physical cards need MYNAHIL_ALLOW_DESTRUCTIVE=1 and a matching MYNAHIL_CARD_FINGERPRINT",
	LabelSimOnly:      "needs the simulator's internals; never runs on a physical card",
	LabelPhysicalSafe: "reviewed for real cards and changes nothing persistent; the only unlabelled-destructive specs that run on a physical card",
	LabelNeedsAuthPIN: "needs the correct auth PIN (MYNAHIL_AUTH_PIN or a prompt); skipped on a physical card without it",
	LabelNeedsSignPIN: "needs the correct sign PIN (MYNAHIL_SIGN_PIN or a prompt); skipped on a physical card without it",
	LabelSlow:         "takes seconds; exclude with --label-filter='!slow'",
	LabelInteractive:  "needs a person at the reader; run only when selected with --label-filter",
}

// Facts are what the guard decides on: the target and the run's opt-ins.
type Facts struct {
	Physical         bool
	AllowDestructive bool   // MYNAHIL_ALLOW_DESTRUCTIVE=1
	WantFingerprint  string // MYNAHIL_CARD_FINGERPRINT, normalised lower-case hex
	CardFingerprint  string // SHA-256 of the auth certificate read from the card; "" if unreadable
	HaveAuthPIN      bool
	HaveSignPIN      bool
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
//  3. anything else runs only if labelled physical-safe;
//  4. needs-auth-pin / needs-sign-pin run only when that PIN was given.
func Decide(labels []string, f Facts) Decision {
	if !f.Physical {
		return Decision{Run: true}
	}
	has := func(l string) bool { return slices.Contains(labels, l) }
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
		}
	case !has(LabelPhysicalSafe):
		return skip("not labelled %s or %s: not run on a physical card", LabelPhysicalSafe, LabelDestructive)
	}
	switch {
	case has(LabelNeedsAuthPIN) && !f.HaveAuthPIN:
		return skip("needs the auth PIN: set MYNAHIL_AUTH_PIN or answer the prompt")
	case has(LabelNeedsSignPIN) && !f.HaveSignPIN:
		return skip("needs the sign PIN: set MYNAHIL_SIGN_PIN or answer the prompt")
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
func (t *Target) Guard() {
	if d := t.Decide(ginkgo.CurrentSpecReport().Labels()); !d.Run {
		ginkgo.Skip(d.Reason, 1)
	}
}
