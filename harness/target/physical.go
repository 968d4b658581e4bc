package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/speclabel"
)

// More environment variables for physical cards (docs/physical-cards.md).
const (
	// EnvCardInfoPIN is the card-info input support applet's PIN
	// (券面事項入力補助AP, 4 digits): specs labelled needs-cardinfo-pin.
	EnvCardInfoPIN = "MYNAHIL_CARDINFO_PIN"
	// EnvOperator selects who performs the office's part (operator.EnvOperator).
	EnvOperator = operator.EnvOperator
)

// officeTimeout bounds one operator step: a person walks to the counter.
const officeTimeout = 30 * time.Minute

// physical is what a Target knows about a physical card beyond the
// connection: the reader, who plays the office, the run's PIN budget and
// why it withholds each PIN, as found when last asked.
type physical struct {
	reader   string
	op       operator.Operator
	budget   *pinbudget.Budget
	withheld map[string]string // pinbudget.Key.Name → reason
	swap     *swapTransport
	// reissued is the auth certificate's SHA-256 after the office last
	// issued it anew in this run, "" before.
	reissued string
}

// readPhysicalEnv reads the card-info PIN and the operator.
func (c *Config) readPhysicalEnv() error {
	c.CardInfoPIN = jpkiclient.PIN(os.Getenv(EnvCardInfoPIN))
	op, err := operator.FromEnv()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	c.Operator = op
	return nil
}

// swapTransport is the physical card's connection, replaced after the card
// has been to the office (it left the reader and came back).
type swapTransport struct {
	mu sync.Mutex
	harness.Transport
}

func (s *swapTransport) current() harness.Transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Transport
}

func (s *swapTransport) Transmit(b []byte) ([]byte, error) { return s.current().Transmit(b) }
func (s *swapTransport) ATR() ([]byte, error)              { return harness.ATR(s.current()) }
func (s *swapTransport) Reset() error                      { return harness.Reset(s.current()) }
func (s *swapTransport) Close() error                      { return harness.Close(s.current()) }

// connectPhysical opens the card in reader exclusively behind a
// swapTransport, so Office can reconnect it.
func (t *Target) connectPhysical(reader string) error {
	card, err := pcsc.Open(reader, pcsc.Exclusive)
	if err != nil {
		return err
	}
	t.ph.reader = reader
	t.ph.swap = &swapTransport{Transport: card}
	t.closers = append(t.closers, func() error { return t.ph.swap.Close() })
	t.t = t.ph.swap
	return nil
}

// Operator is who performs the office's part, nil when nobody does.
func (t *Target) Operator() operator.Operator { return t.ph.op }

// SetOperator sets who performs the office's part (a suite on a simulated
// target may stand in for the office itself).
func (t *Target) SetOperator(op operator.Operator) { t.ph.op = op }

// Reader is the physical card's reader, "" for a simulated card.
func (t *Target) Reader() string { return t.ph.reader }

// ErrNoOperator: a counter step was asked for, but nobody performs the
// office's part (MYNAHIL_OPERATOR is unset).
var ErrNoOperator = errors.New("needs an operator: set " + EnvOperator + "=terminal (or sim:ADDR for the simulator's office)")

// Office asks the operator to have the office re-set PIN ref to the value
// the run was given (AtCounter with operator.ResetPIN).
func (t *Target) Office(ref jpkiclient.PINRef) error { return t.AtCounter(operator.ResetPIN, ref) }

// AtCounter asks the operator to do one named step at the municipal
// office's counter (docs/physical-cards.md, "Counter steps"): unlock or
// re-set a PIN, give up or issue a certificate, report the card lost, or
// bring the lost card back and have its certificates issued anew. ref names
// the PIN the step re-sets, or the certificate it revokes or issues (by
// the PIN that guards it). Every PIN the office sets is the one the run was
// given, so the card leaves the counter with the PINs it came with. It waits
// for the step, and when the card left its reader for it, reconnects to the
// card (a physical one) before returning; the caller then checks the card.
// Without an operator it returns ErrNoOperator and asks nobody.
func (t *Target) AtCounter(a operator.Action, ref jpkiclient.PINRef) error {
	if t.ph.op == nil {
		return fmt.Errorf("asking the office (%s): %w", a, ErrNoOperator)
	}
	step, err := t.step(a, ref)
	if err != nil {
		return fmt.Errorf("asking the office (%s): %w", a, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), officeTimeout)
	defer cancel()
	if err := t.ph.op.Do(ctx, step); err != nil {
		return fmt.Errorf("asking the office (%s): %w", a, err)
	}
	if t.ph.swap != nil && a.Visits() {
		if err := t.reconnect(ctx); err != nil {
			return err
		}
	}
	if a == operator.CardFound || (a == operator.IssueCertificate && ref == jpkiclient.AuthPIN) {
		t.noteReissued()
	}
	return nil
}

// step is the Step for a, with the reader and the PIN values of the run.
func (t *Target) step(a operator.Action, ref jpkiclient.PINRef) (operator.Step, error) {
	reader := t.ph.reader
	if reader == "" {
		reader = t.desc
	}
	s := operator.Step{Action: a, PIN: ref, Reader: reader}
	need := func(what string, v jpkiclient.PIN) (jpkiclient.PIN, error) {
		if v == "" {
			return "", fmt.Errorf("the office would set the %s, but the run was not given it", what)
		}
		return v, nil
	}
	var err error
	switch a {
	case operator.ResetPIN, operator.IssueCertificate:
		s.Value, err = need(ref.String(), t.pinOf(ref))
	case operator.ResetCardInfoPIN:
		s.Value, err = need("card-info PIN", t.pins.CardInfo)
	case operator.CardFound:
		if s.Value, err = need(jpkiclient.AuthPIN.String(), t.pins.Auth); err == nil {
			s.SignValue, err = need(jpkiclient.SignPIN.String(), t.pins.Sign)
		}
	}
	return s, err
}

func (t *Target) pinOf(ref jpkiclient.PINRef) jpkiclient.PIN {
	if ref == jpkiclient.SignPIN {
		return t.pins.Sign
	}
	return t.pins.Auth
}

// noteReissued reports the new auth certificate's SHA-256 after the office
// issued it anew: the card's identity for the guards (MYNAHIL_CARD_FINGERPRINT)
// changes with it, from the next run on.
func (t *Target) noteReissued() {
	if !t.cfg.Physical || t.t == nil {
		return
	}
	fp, err := cardid.Read(t.t)
	if err != nil {
		return
	}
	was := t.fingerprint
	if t.ph.reissued != "" {
		was = t.ph.reissued
	}
	if fp == was {
		return
	}
	t.ph.reissued = fp
	msg := fmt.Sprintf("the office issued the card's auth certificate anew: its SHA-256 is now %s (was %s); give it as %s in the next run", fp, was, EnvFingerprint)
	ginkgo.AddReportEntry("card re-issued", msg)
	fmt.Fprintf(os.Stdout, "mynahil: %s\n", msg)
}

// reconnect waits for the card in its reader and connects to it afresh:
// after a visit to the office the old handle refers to a card that left
// the reader (or was reset under it), and a handle reconnected from before
// the visit can answer 8010000F (protocol mismatch) later; so the old one
// is dropped and a new connection is opened and probed.
func (t *Target) reconnect(ctx context.Context) error {
	c, err := pcsc.Establish()
	if err != nil {
		return err
	}
	defer c.Close()
	if card, ok := t.ph.swap.current().(*pcsc.Card); ok {
		_ = card.Disconnect(pcsc.LeaveCard)
	}
	var last error
	for ctx.Err() == nil {
		if _, err := c.WaitCard(ctx, t.ph.reader); err != nil {
			return fmt.Errorf("waiting for the card back from the office: %w", err)
		}
		card, err := pcsc.Open(t.ph.reader, pcsc.Exclusive)
		if err == nil {
			if err = jpkiclient.New(card).SelectAP(); err == nil {
				t.ph.swap.mu.Lock()
				t.ph.swap.Transport = card
				t.ph.swap.mu.Unlock()
				return nil
			}
			_ = card.Disconnect(pcsc.ResetCard)
		}
		last = err
		// The card may be on its way out again (the office's put-back
		// seen before its take-out): give pcscd a moment to report the
		// removal, then wait for the card anew.
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, _ = c.WaitRemoved(wctx, t.ph.reader)
		cancel()
	}
	return fmt.Errorf("reconnecting to the card after the office: %w", errors.Join(last, ctx.Err()))
}

// triesLeft asks the card (VERIFY without data: no try spent).
func (t *Target) triesLeft(ref jpkiclient.PINRef) (int, error) {
	c := jpkiclient.New(t.t)
	if err := c.SelectAP(); err != nil {
		return 0, err
	}
	return c.TriesLeft(ref)
}

// refreshWithheld asks the card, for each PIN the spec's labels need and
// the run was given, whether the budget lets it through now (every try
// left, not refused in this run). No try is spent.
func (t *Target) refreshWithheld(labels []string) {
	if t.ph.budget == nil {
		return
	}
	if t.ph.withheld == nil {
		t.ph.withheld = map[string]string{}
	}
	asked := false
	for _, n := range []struct {
		label speclabel.Label
		key   pinbudget.Key
		given jpkiclient.PIN
	}{
		{speclabel.NeedsAuthPIN, pinbudget.Auth, t.pins.Auth},
		{speclabel.NeedsSignPIN, pinbudget.Sign, t.pins.Sign},
		{speclabel.NeedsCardInfoPIN, pinbudget.CardInfo, t.pins.CardInfo},
	} {
		if !speclabel.Has(labels, n.label) || n.given == "" {
			continue
		}
		asked = true
		err := pinbudget.Select(t.t, n.key)
		if err == nil {
			err = t.ph.budget.Ready(t.t, n.key)
		}
		t.ph.withheld[n.key.Name] = ""
		if err != nil {
			t.ph.withheld[n.key.Name] = withheldReason(n.key, err)
		}
	}
	if asked {
		_ = harness.Reset(t.t)
	}
}

// withheldReason is the skip reason for a PIN the budget withholds.
func withheldReason(k pinbudget.Key, err error) string {
	for _, known := range []error{pinbudget.ErrRefused, pinbudget.ErrNotFull, pinbudget.ErrBlocked, pinbudget.ErrUnknown} {
		if errors.Is(err, known) {
			return err.Error()
		}
	}
	return fmt.Sprintf("the %s was not sent, its tries left could not be read: %v", k, err)
}

// preflight runs the PIN budget's pre-flight on a physical card (one
// VERIFY per given PIN, only with every try left) and puts the card
// behind its gate.
func (t *Target) preflight() {
	raw := t.t
	t.ph.budget = pinbudget.Preflight(raw,
		pinbudget.Given{Key: pinbudget.Auth, PIN: t.pins.Auth},
		pinbudget.Given{Key: pinbudget.Sign, PIN: t.pins.Sign},
		pinbudget.Given{Key: pinbudget.CardInfo, PIN: t.pins.CardInfo})
	t.t = t.ph.budget.Gate(raw)
}

// PINProblems lists why the PIN budget withholds a PIN the run was given,
// as found by the pre-flight at Open: each ends every spec that needs the
// PIN and fails the run (docs/physical-cards.md, "The PIN budget").
func (t *Target) PINProblems() []string {
	if t.ph.budget == nil {
		return nil
	}
	return t.ph.budget.Problems()
}

// CardState says which state the card is in, for the run's last line:
// "auth PIN: 3 tries left, sign PIN blocked: the office must re-set it".
func (t *Target) CardState() string {
	var s string
	for i, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
		if i > 0 {
			s += ", "
		}
		n, err := t.triesLeft(ref)
		switch {
		case errors.Is(err, apduclient.ErrPINBlocked) || err == nil && n == 0:
			s += ref.String() + " blocked: the office must re-set it"
		case err != nil:
			s += ref.String() + ": unknown (" + err.Error() + ")"
		default:
			s += fmt.Sprintf("%s: %d of %d tries left", ref, n, ref.MaxTries())
		}
	}
	_ = harness.Reset(t.t)
	return s
}

// reportCardState records the card's state in the suite's report (the
// summary line repeats it) and on stdout: on a physical card only, whose
// state outlives the run.
func (t *Target) reportCardState() {
	if !t.cfg.Physical || t.t == nil {
		return
	}
	state := t.CardState()
	ginkgo.AddReportEntry(runsummary.EntryCardState, state)
	fmt.Fprintf(os.Stdout, "\nmynahil: the card in %q is left with %s\n", t.ph.reader, state)
}

// destructivePass reports whether this run's --label-filter lets only
// destructive specs through: on a physical card they run in a pass of
// their own after all others, so a lockout never precedes a spec that
// needs the PIN, whatever order Ginkgo picks.
func destructivePass() bool { return destructiveOnly(ginkgo.GinkgoLabelFilter()) }

// destructiveOnly reports whether a label filter rejects every spec that
// is not labelled destructive (probed with each other label).
func destructiveOnly(labelFilter string) bool {
	filter, err := types.ParseLabelFilter(labelFilter)
	if err != nil {
		return false
	}
	safe := string(speclabel.PhysicalSafe)
	probes := [][]string{{safe}}
	for _, l := range speclabel.All() {
		if l != speclabel.Destructive {
			probes = append(probes, []string{safe, string(l)}, []string{string(l)})
		}
	}
	for _, p := range probes {
		if filter(p) {
			return false
		}
	}
	return true
}
