package conformance

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// NotRunError says why a run could not start. It is never a verdict on
// the reader: the environment (pcscd, the reader's name, the card, the
// simulator's slot) is not what the suite can judge (docs/conformance.md).
type NotRunError struct {
	What string // what is wrong
	Do   string // what to do about it
}

func (e *NotRunError) Error() string { return "could not run: " + e.What + "; " + e.Do }

// Baseline is the round trip of a trivial exchange measured before the
// checks, on the same machine and in the same run: timing limits that a
// busy machine would otherwise miss are scaled from it (docs/conformance.md).
type Baseline struct {
	Exchanges int           `json:"exchanges"`
	Median    time.Duration `json:"median_ns"`
	Max       time.Duration `json:"max_ns"`
}

// Scale returns the larger of spec and factor times the baseline median: a
// limit a reader must meet, widened only when this machine itself is slow.
func (b Baseline) Scale(spec time.Duration, factor int) time.Duration {
	return max(spec, time.Duration(factor)*b.Median)
}

// Preflight checks what the run needs before any check: pcscd answers, the
// reader is listed (cfg.Reader "" picks the only one), a card is in it
// (asked for on an interactive run) and the card is a My Number Card. It
// measures the baseline. A reader fault (a card it cannot power or talk
// to) is not a reason to stop: the checks report it.
func Preflight(cfg *Config) (Baseline, error) {
	cfg.defaults()
	ctx, err := within(cfg.APDUTimeout, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return Baseline{}, &NotRunError{What: fmt.Sprintf("pcscd does not answer (%v)", err),
			Do: "start it (sudo systemctl start pcscd.socket), or run under scripts/with-pcscd"}
	}
	defer func() { _ = ctx.Close() }()
	readers, err := within(cfg.APDUTimeout, "listing readers", ctx.ReaderNames)
	if err != nil {
		return Baseline{}, &NotRunError{What: fmt.Sprintf("listing the readers failed (%v)", err), Do: "check that pcscd runs"}
	}
	list := "no readers at all"
	if len(readers) > 0 {
		list = "readers: " + strings.Join(readers, "; ")
	}
	switch {
	case cfg.Reader == "" && len(readers) == 1:
		cfg.Reader = readers[0]
	case cfg.Reader == "":
		return Baseline{}, &NotRunError{What: fmt.Sprintf("no reader named and %d connected (%s)", len(readers), list), Do: "name one with --reader"}
	case !contains(readers, cfg.Reader):
		return Baseline{}, &NotRunError{What: fmt.Sprintf("reader %q is not listed (%s)", cfg.Reader, list),
			Do: "check the name with `mynahil readers` or pcsc_scan and pass it exactly with --reader"}
	}
	rs := []pcsc.ReaderState{{Reader: cfg.Reader, CurrentState: pcsc.StateUnaware}}
	if err := ctx.GetStatusChange(rs, 0); err != nil {
		return Baseline{}, &NotRunError{What: fmt.Sprintf("reading the state of %q failed (%v)", cfg.Reader, err), Do: "check the reader's connection"}
	}
	if rs[0].EventState&pcsc.StatePresent == 0 {
		if !cfg.Interactive || cfg.Prompter == nil {
			return Baseline{}, &NotRunError{What: fmt.Sprintf("no card in %q", cfg.Reader),
				Do: "insert a My Number Card before the run, or run with --interactive to be asked for it"}
		}
		if err := cfg.Prompter.Prompt(fmt.Sprintf("Insert the My Number Card into %q (the run waits 60 s).", cfg.Reader)); err != nil {
			return Baseline{}, &NotRunError{What: fmt.Sprintf("asking for the card: %v", err), Do: "answer the prompt"}
		}
		if _, _, err := waitState(ctx, cfg.Reader, pcsc.StatePresent, time.Minute); err != nil {
			return Baseline{}, &NotRunError{What: fmt.Sprintf("no card in %q after 60 s", cfg.Reader), Do: "insert a My Number Card"}
		}
	}
	return identify(cfg)
}

// identify connects and sends SELECT of the JPKI AP: an answer other than
// 9000 (or 61xx) is a card that is not a My Number Card. A transport error
// is left to the checks. The same exchange, repeated, is the baseline.
func identify(cfg *Config) (Baseline, error) {
	s, err := openSession(cfg.Reader, cfg.APDUTimeout)
	if err != nil {
		return Baseline{}, nil
	}
	defer func() { _ = s.close() }()
	if err := s.connect(pcsc.Shared); err != nil {
		if errors.Is(err, pcsc.ErrSharingViolation) {
			return Baseline{}, &NotRunError{What: fmt.Sprintf("%s: another application holds %q exclusively (%v)", CauseSharing, cfg.Reader, err),
				Do: "close the application that has the card open (a signing or browser app, another test), then run again"}
		}
		return Baseline{}, nil // the reader's to answer for: the checks report it
	}
	var l latencies
	for i := 0; i < 20; i++ {
		resp, d, err := s.transmit(selectAID(jpkiclient.AID, 0x0C))
		if err != nil {
			return Baseline{}, nil
		}
		if sw, ok := swOf(resp); ok && sw != 0x9000 && sw>>8 != 0x61 && i == 0 {
			return Baseline{}, &NotRunError{What: fmt.Sprintf("the card in %q is not a My Number Card: SELECT of the JPKI AP answered %s", cfg.Reader, describe(resp)),
				Do: "insert a My Number Card (the suite identifies it by that SELECT, not by its ATR)"}
		}
		l = append(l, d)
	}
	return Baseline{Exchanges: len(l), Median: l.percentile(0.5), Max: l.max()}, nil
}

// IsNotRun reports whether err says the run could not start.
func IsNotRun(err error) bool {
	var nr *NotRunError
	return errors.As(err, &nr)
}

// SlotFree returns a *NotRunError when reader already holds a card before
// the simulator serves one: another process serves that vpcd slot, and the
// checks would talk to its card.
func SlotFree(reader string) error {
	ctx, err := within(5*time.Second, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return &NotRunError{What: fmt.Sprintf("pcscd does not answer (%v)", err), Do: "start pcscd with vsmartcard-vpcd, or run under scripts/with-pcscd"}
	}
	defer func() { _ = ctx.Close() }()
	rs := []pcsc.ReaderState{{Reader: reader, CurrentState: pcsc.StateUnaware}}
	if err := ctx.GetStatusChange(rs, 0); err != nil {
		return &NotRunError{What: fmt.Sprintf("reader %q is not available (%v)", reader, err), Do: "start pcscd with vsmartcard-vpcd, or run under scripts/with-pcscd"}
	}
	if rs[0].EventState&pcsc.StatePresent != 0 {
		return &NotRunError{What: fmt.Sprintf("%q already holds a card (ATR %s): another process serves this vpcd slot", reader, hexs(rs[0].ATR)),
			Do: "stop that process (a running `mynahil sim`?), or test its card without --sim"}
	}
	return nil
}
