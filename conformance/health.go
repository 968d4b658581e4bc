package conformance

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// Causes of an environment fault (EnvFault.Cause), as the report names them
// (docs/conformance.md#environment-faults).
const (
	CauseSharing    = "sharing violation" // another application holds the reader exclusively
	CausePCSCD      = "pcscd stopped"     // pcscd died or stopped answering
	CauseReaderGone = "reader gone"       // the reader left pcscd's list (unplugged)
	CauseCardGone   = "card gone"         // the card left the reader and did not come back
	CauseOtherCard  = "different card"    // another card is in the reader now
)

// EnvFault is an environment fault met in the middle of a run: something
// outside the reader under test (pcscd, another application, the card
// being taken away or swapped, a refused PIN) kept a check from running.
// It is never a verdict on the reader: the run stops there, the check
// that met it is Interrupted, and the checks finished before it keep
// their results (docs/conformance.md#environment-faults).
//
// A check reports one by passing an error that wraps an *EnvFault to
// Errorf, Fatalf or Interrupt (errors.As finds it); the runner also finds
// one itself with a health probe whenever a check fails.
type EnvFault struct {
	Cause string `json:"cause"` // one of the Cause constants, or another short name ("PIN refused")
	What  string `json:"what"`  // what was seen
	Do    string `json:"do"`    // what to do before running again
	Err   error  `json:"-"`     // the error that showed it, if any
}

func (e *EnvFault) Error() string { return e.Cause + ": " + e.What + "; " + e.Do }

// Unwrap returns the error that showed the fault.
func (e *EnvFault) Unwrap() error { return e.Err }

// AsEnvFault returns the *EnvFault in err's chain, or nil.
func AsEnvFault(err error) *EnvFault {
	var f *EnvFault
	if errors.As(err, &f) {
		return f
	}
	return nil
}

// cardID is what identifies the card of a run: the ATR pcscd reports and
// the SHA-256 of the auth certificate (nil when it could not be read).
type cardID struct {
	atr         []byte
	fingerprint string // harness/cardid: the auth certificate's SHA-256
}

// noteCard records the card of the run (its ATR and auth certificate) for
// the health probe's "same card" test, and keeps the certificate as the
// run's reference. A certificate that cannot be read is left to the checks.
func (rs *RunState) noteCard(cfg *Config) {
	id, der := readCardID(cfg)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.card = id
	if rs.ref == nil && der != nil {
		// readCardID parsed it, so this cannot fail.
		if cert, err := parseCert(der); err == nil {
			rs.ref = &reference{authCert: der, cert: cert}
		}
	}
}

// readCardID reads the ATR from pcscd and the auth certificate in 128-byte
// chunks (the path no check is about) on a shared connection of its own.
func readCardID(cfg *Config) (cardID, []byte) {
	s, err := openSession(cfg.Reader, cfg.APDUTimeout)
	if err != nil {
		return cardID{}, nil
	}
	defer func() { _ = s.close() }()
	var id cardID
	rs := []pcsc.ReaderState{{Reader: cfg.Reader, CurrentState: pcsc.StateUnaware}}
	if s.ctx.GetStatusChange(rs, 0) == nil {
		id.atr = bytes.Clone(rs[0].ATR)
	}
	if s.connect(pcsc.Shared) != nil {
		return id, nil
	}
	for _, cmd := range [][]byte{selectAID(jpkiclient.AID, 0x0C), selectEF(jpkiclient.EFAuthCert)} {
		if resp, _, err := s.transmit(cmd); err != nil || !bytes.Equal(resp, []byte{0x90, 0x00}) {
			return id, nil
		}
	}
	der, err := readDERChunks(s, 128)
	if err != nil {
		return id, nil
	}
	if _, err := parseCert(der); err != nil {
		return id, nil
	}
	id.fingerprint = cardid.Of(der)
	return id, der
}

// health is the probe run whenever a check fails (and before the failure
// is blamed on the reader): pcscd answers, the reader is listed, a card is
// in it (the simulator puts it back, as between checks), nobody else holds
// it exclusively, and it is the card the run started with. It returns the
// environment fault it finds, or nil: then the failure is the reader's.
// What it cannot decide (a card that does not answer) it leaves to the
// failure. check names the check for the messages.
func (rs *RunState) health(cfg *Config, check string) *EnvFault {
	// Only pcscd's own answer says it is gone (SCARD_E_NO_SERVICE): a call
	// that times out may wait behind a reader that hangs, and a reader that
	// hangs is the reader's fault (R12).
	ctx, err := within(cfg.APDUTimeout, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return pcscdOrReader(cfg.Reader, check, err)
	}
	defer func() { _ = ctx.Close() }()
	readers, err := within(cfg.APDUTimeout, "listing readers", ctx.ReaderNames)
	switch {
	case err != nil:
		return pcscdOrReader(cfg.Reader, check, err)
	case !contains(readers, cfg.Reader):
		return readerGone(cfg.Reader, check, nil)
	}
	flags, err := readerFlags(ctx, cfg.Reader)
	if err != nil {
		return pcscdOrReader(cfg.Reader, check, err) // nil: not the environment's
	}
	if flags&pcsc.StateMute != 0 {
		return nil // a card the reader cannot power: the reader's fault (R01)
	}
	if flags&pcsc.StatePresent == 0 {
		if f := rs.cardBack(ctx, cfg, check); f != nil {
			return f
		}
	}
	if f := sharingFault(ctx, cfg, check); f != nil {
		return f
	}
	return rs.otherCard(cfg, check)
}

// readerFlags returns the reader's state as pcscd reports it now.
func readerFlags(ctx *pcsc.Context, reader string) (pcsc.StateFlag, error) {
	st := []pcsc.ReaderState{{Reader: reader, CurrentState: pcsc.StateUnaware}}
	_, err := within(5*time.Second, "reading the reader's state", func() (struct{}, error) {
		return struct{}{}, ctx.GetStatusChange(st, 0)
	})
	return st[0].EventState, err
}

// cardBack waits for the card to be back in the reader. The simulator is
// told to put it back, or an operator is asked, as between checks (settle),
// and the wait is presenceWait. With nobody to put it back, the wait is
// twice the detection budget: a card the reader lost for a moment is
// reported back within pcscd's detection time. A card that stays away is
// a fault.
func (rs *RunState) cardBack(ctx *pcsc.Context, cfg *Config, check string) *EnvFault {
	wait := 2 * cfg.DetectBudget
	switch {
	case cfg.Card != nil:
		cfg.Card.Insert()
		wait = presenceWait
	case cfg.Interactive && cfg.Prompter != nil:
		wait = presenceWait
		msg := fmt.Sprintf("The card left %q during %s: put it back (the run waits %v).", cfg.Reader, check, wait)
		if cfg.Prompter.Prompt(msg) != nil {
			break
		}
	}
	if _, _, err := waitState(ctx, cfg.Reader, pcsc.StatePresent, wait); err != nil {
		if f := pcscdOrReader(cfg.Reader, check, err); f != nil {
			return f
		}
		return &EnvFault{Cause: CauseCardGone, Err: err,
			What: fmt.Sprintf("the card left %q during %s and was not back within %v", cfg.Reader, check, wait),
			Do:   "leave the card in the reader for the whole run (or run with --interactive to be asked for it), then run again"}
	}
	return nil
}

// sharingFault reports another application holding the reader exclusively:
// pcscd's EXCLUSIVE state, or a shared connect refused with a sharing
// violation. Other connect errors are the reader's to answer for.
func sharingFault(ctx *pcsc.Context, cfg *Config, check string) *EnvFault {
	flags, _ := readerFlags(ctx, cfg.Reader)
	c, err := within(cfg.APDUTimeout, "connecting", func() (*pcsc.Card, error) { return ctx.Connect(cfg.Reader, pcsc.Shared) })
	if err == nil {
		_ = c.Disconnect(pcsc.LeaveCard)
	}
	if flags&pcsc.StateExclusive == 0 && !errors.Is(err, pcsc.ErrSharingViolation) {
		return pcscdOrReader(cfg.Reader, check, err)
	}
	return &EnvFault{Cause: CauseSharing, Err: err,
		What: fmt.Sprintf("another application holds %q exclusively (SCARD_E_SHARING_VIOLATION) since %s", cfg.Reader, check),
		Do:   "close the application that has the card open (a signing or browser app, another test), then run again"}
}

// otherCard compares the card now in the reader with the one the run
// started with: the auth certificate's SHA-256, read twice alike (a reader
// that garbles now and then must not pass for a card swap); without a
// fingerprint from the start, the ATR. A card that cannot be read is
// assumed to be the same one.
func (rs *RunState) otherCard(cfg *Config, check string) *EnvFault {
	rs.mu.Lock()
	was := rs.card
	rs.mu.Unlock()
	if was.fingerprint == "" && was.atr == nil {
		return nil
	}
	now, _ := readCardID(cfg)
	differs := false
	switch {
	case was.fingerprint != "" && now.fingerprint != "":
		if now.fingerprint != was.fingerprint {
			again, _ := readCardID(cfg)
			differs = again.fingerprint == now.fingerprint
		}
	case was.fingerprint == "" && now.atr != nil:
		differs = !bytes.Equal(now.atr, was.atr)
	}
	if !differs {
		return nil
	}
	return &EnvFault{Cause: CauseOtherCard,
		What: fmt.Sprintf("the card in %q is not the one the run started with (ATR %s then, %s now; auth certificate SHA-256 %s then, %s now)",
			cfg.Reader, hexs(was.atr), hexs(now.atr), was.fingerprint, now.fingerprint),
		Do: "leave the same card in the reader for the whole run, then run again"}
}

func pcscdFault(check string, err error) *EnvFault {
	return &EnvFault{Cause: CausePCSCD, Err: err,
		What: fmt.Sprintf("pcscd stopped answering during %s (%v)", check, err),
		Do:   "start pcscd again (sudo systemctl start pcscd.socket, or run under scripts/with-pcscd), then run again"}
}

func readerGone(reader, check string, err error) *EnvFault {
	return &EnvFault{Cause: CauseReaderGone, Err: err,
		What: fmt.Sprintf("reader %q is no longer listed by pcscd (since %s)", reader, check),
		Do:   "plug the reader back in (check its cable and `mynahil readers`), then run again"}
}

// pcscdOrReader classifies a PC/SC error of the probe itself: pcscd gone,
// the reader gone, or (nil) neither.
func pcscdOrReader(reader, check string, err error) *EnvFault {
	switch {
	case errors.Is(err, pcsc.ErrReaderNotFound) || errors.Is(err, pcsc.ErrNoReaders):
		return readerGone(reader, check, err)
	case errors.Is(err, pcsc.ErrNoService):
		return pcscdFault(check, err)
	}
	return nil
}

func parseCert(der []byte) (*x509.Certificate, error) { return x509.ParseCertificate(der) }
