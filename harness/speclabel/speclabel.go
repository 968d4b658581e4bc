// Package speclabel is the one registry of the labels Ginkgo specs carry,
// for the scenario suites and the reader conformance suite alike. A label is
// a typed constant, never a string written in a suite: a misspelt
// "destrutive" would silently escape the physical-card guard (package
// harness/target), so Of refuses anything outside the registry, and a test
// (scenarios/framework, TestNoRawLabels) fails on a raw Label("…") anywhere
// in the module.
//
// docs/suites.md lists the labels and what each means to a run.
package speclabel

import (
	"fmt"
	"slices"
	"sort"

	"github.com/onsi/ginkgo/v2"
)

// Label is one registered spec label.
type Label string

// Labels the physical-card guard reads (harness/target.Decide) and the
// scenario suites carry.
const (
	// Destructive: the spec changes the card's persistent state in a way
	// its holder would notice: spends or blocks PIN tries, changes a PIN,
	// rewrites files. On a physical card it runs only with
	// MYNAHIL_ALLOW_DESTRUCTIVE=1 and a MYNAHIL_CARD_FINGERPRINT matching
	// the card in the reader, in a pass of its own.
	Destructive Label = "destructive"
	// SimOnly: the spec needs the simulator itself (its office, its clock,
	// its internals, fault injection). Never runs on a physical card.
	SimOnly Label = "sim-only"
	// PhysicalSafe: the spec was written with real cards in mind and
	// changes nothing persistent (reads, tries-left queries, signatures
	// with a PIN it was given). On a physical card only specs labelled
	// PhysicalSafe or Destructive run.
	PhysicalSafe Label = "physical-safe"
	// NeedsAuthPIN: the spec needs the correct auth PIN.
	NeedsAuthPIN Label = "needs-auth-pin"
	// NeedsSignPIN: the spec needs the correct sign PIN.
	NeedsSignPIN Label = "needs-sign-pin"
	// NeedsCardInfoPIN: the spec needs the card-info input support
	// applet's PIN (券面事項入力補助AP).
	NeedsCardInfoPIN Label = "needs-cardinfo-pin"
	// Slow: the spec takes seconds (pcscd polling, many signatures).
	Slow Label = "slow"
	// Interactive: the spec needs an operator: a person at the reader or
	// the office's counter, or the rehearsal's scripted office.
	Interactive Label = "interactive"
)

// Labels of the reader conformance suite (package conformance). Its check
// IDs (R01 …) are labels of their own and not registered here.
const (
	// Reader: the reader conformance suite (R01–R21).
	Reader Label = "reader"
	// FaultMatrix: every fault profile of a broken reader against the
	// conformance suite.
	FaultMatrix Label = "fault-matrix"
	// Mandatory: a conformance check that decides the verdict.
	Mandatory Label = "mandatory"
	// Optional: a conformance check that informs but does not decide.
	Optional Label = "optional"
	// PIN: a conformance check that sends the auth PIN when one is given.
	PIN Label = "pin"
	// CardControl: a conformance check that removes and inserts the card
	// (simulated card or operator).
	CardControl Label = "card-control"
	// Verdicts: the conformance package's own verdict specs.
	Verdicts Label = "verdicts"
)

var registry = map[Label]string{
	Destructive:      "changes persistent card state (PIN tries, PINs, files); physical cards need MYNAHIL_ALLOW_DESTRUCTIVE=1 and a matching MYNAHIL_CARD_FINGERPRINT",
	SimOnly:          "needs the simulator's internals; never runs on a physical card",
	PhysicalSafe:     "reviewed for real cards and changes nothing persistent; with destructive, the only specs that run on a physical card",
	NeedsAuthPIN:     "needs the correct auth PIN (MYNAHIL_AUTH_PIN or a prompt); skipped on a physical card without it",
	NeedsSignPIN:     "needs the correct sign PIN (MYNAHIL_SIGN_PIN or a prompt); skipped on a physical card without it",
	NeedsCardInfoPIN: "needs the card-info PIN (MYNAHIL_CARDINFO_PIN); skipped on a physical card without it",
	Slow:             "takes seconds; exclude with --label-filter='!slow'",
	Interactive:      "needs an operator (MYNAHIL_OPERATOR: a person, or the rehearsal's scripted office); skipped without one",
	Reader:           "the reader conformance suite (R01–R21)",
	FaultMatrix:      "every fault profile of a broken reader against the conformance suite",
	Mandatory:        "a conformance check that decides the verdict",
	Optional:         "a conformance check that informs but does not decide",
	PIN:              "a conformance check that sends the auth PIN when one is given",
	CardControl:      "a conformance check that removes and inserts the card (simulated card or operator)",
	Verdicts:         "the conformance package's verdict specs",
}

// Registry returns every registered label with what it means.
func Registry() map[Label]string {
	out := make(map[Label]string, len(registry))
	for k, v := range registry {
		out[k] = v
	}
	return out
}

// Known reports whether l is registered.
func Known(l Label) bool {
	_, ok := registry[l]
	return ok
}

// Of returns the Ginkgo decorator for ls. It panics (at tree construction,
// so the suite does not start) on a label outside the registry, which only
// a conversion such as Label("destrutive") can make.
func Of(ls ...Label) ginkgo.Labels {
	out := make(ginkgo.Labels, 0, len(ls))
	for _, l := range ls {
		if !Known(l) {
			known := make([]string, 0, len(registry))
			for k := range registry {
				known = append(known, string(k))
			}
			sort.Strings(known)
			panic(fmt.Sprintf("speclabel.Of: unknown label %q (known: %v)", l, known))
		}
		out = append(out, string(l))
	}
	return out
}

// Has reports whether a spec's labels (as Ginkgo reports them) carry l.
func Has(labels []string, l Label) bool { return slices.Contains(labels, string(l)) }

// All returns every registered label, sorted.
func All() []Label {
	out := make([]Label, 0, len(registry))
	for l := range registry {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
