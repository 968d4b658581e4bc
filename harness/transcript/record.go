package transcript

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pinbudget"
)

// Options make Record safe on a physical card.
type Options struct {
	// AuthPIN and SignPIN enable the steps that need them; empty skips
	// them. Record sends a PIN only after the card reports every try left
	// (3 and 5), and stops at the first refusal.
	AuthPIN, SignPIN jpkiclient.PIN
	// Fingerprint, when set, is the SHA-256 (hex) of the auth certificate
	// of the one card Record may touch; any other card is refused before
	// a PIN or anything past the certificate read is sent.
	Fingerprint string
	// Card describes what is recorded (reader name, card description).
	Card string
}

// Errors of Record.
var (
	// ErrWrongCard: the card's fingerprint is not the one given.
	ErrWrongCard = errors.New("card fingerprint differs from the one given")
	// ErrTriesSpent: a PIN has fewer tries left than its maximum, so Record
	// does not send it.
	ErrTriesSpent = errors.New("PIN tries already spent")
	// ErrPINRefused: the card refused a PIN (one try spent); Record stops.
	ErrPINRefused = errors.New("card refused the PIN")
)

// Record runs Probe against t. Without PINs it only reads or sends commands
// the card refuses without a change of state. With a fingerprint it first
// reads the auth certificate (no PIN; on phone tokens that needs the auth
// PIN, so such a card is refused) and refuses a different card. On error
// the transcript holds the steps recorded so far.
func Record(t harness.Transport, o Options) (*Transcript, error) {
	tr := &Transcript{Format: Format, Card: o.Card, RecordedAt: time.Now().UTC()}
	if err := harness.Reset(t); err != nil {
		return tr, fmt.Errorf("recording: %w", err)
	}
	if fp, err := fingerprint(t); err == nil {
		tr.Fingerprint = fp
	}
	if want := normalised(o.Fingerprint); want != "" && tr.Fingerprint != want {
		got := tr.Fingerprint
		if got == "" {
			got = "unreadable"
		}
		return tr, fmt.Errorf("recording: %w: card %s, given %s", ErrWrongCard, got, want)
	}
	pins := map[string]jpkiclient.PIN{"auth": o.AuthPIN, "sign": o.SignPIN}
	keys := map[string]pinbudget.Key{"auth": pinbudget.Auth, "sign": pinbudget.Sign}
	// The run's PIN budget (harness/pinbudget): a PIN goes to the card only
	// with every try left, and a refusal ends the recording.
	budget := pinbudget.New()
	for _, p := range Probe() {
		need := p.NeedsPIN()
		if need != "" {
			if pins[need] == "" {
				continue
			}
			// The previous probe step selected the PIN's EF.
			if err := budget.Ready(t, keys[need]); err != nil {
				return tr, fmt.Errorf("recording: %w: %w", ErrTriesSpent, err)
			}
		}
		s, err := run(t, p, string(o.AuthPIN), string(o.SignPIN))
		if err != nil {
			return tr, fmt.Errorf("recording step %q: %w", p.Name, err)
		}
		tr.Steps = append(tr.Steps, s)
		if need != "" && s.SW != "9000" {
			sw, _ := strconv.ParseUint(s.SW, 16, 16)
			budget.Note(keys[need], uint16(sw))
			why := budget.Result(keys[need]).Reason()
			if why == "" {
				why = "the card answered " + s.SW
			}
			return tr, fmt.Errorf("recording: %w: %s; stopped", ErrPINRefused, why)
		}
	}
	return tr, nil
}

// Replay sends the steps of a recorded transcript to t, in order, with the
// given PINs in place of the placeholders, and returns what t answered.
func Replay(t harness.Transport, recorded *Transcript, authPIN, signPIN jpkiclient.PIN, card string) (*Transcript, error) {
	tr := &Transcript{Format: Format, Card: card, RecordedAt: time.Now().UTC()}
	if fp, err := fingerprint(t); err == nil {
		tr.Fingerprint = fp
	}
	for _, p := range recorded.Steps {
		s, err := run(t, p, string(authPIN), string(signPIN))
		if err != nil {
			return tr, fmt.Errorf("replaying step %q: %w", p.Name, err)
		}
		tr.Steps = append(tr.Steps, s)
	}
	return tr, nil
}

// fingerprint reads the card's identity (harness/cardid: the auth
// certificate, no PIN) and resets the card.
func fingerprint(t harness.Transport) (string, error) {
	defer harness.Reset(t) //nolint:errcheck // best effort: the probe starts with a reset anyway
	return cardid.Read(t)
}

// normalised is the fingerprint the user gave in canonical form; a
// malformed one is kept as given (it then matches no card).
func normalised(s string) string {
	if fp, err := cardid.Normalise(s); err == nil {
		return fp
	}
	return s
}

// run performs one step and describes the answer as the step's check asks.
func run(t harness.Transport, p Step, auth, sign string) (Step, error) {
	s := Step{Name: p.Name, Command: p.Command, Check: p.Check}
	var data []byte
	switch p.Command {
	case cmdReset:
		return s, harness.Reset(t)
	case cmdATR:
		atr, err := harness.ATR(t)
		if err != nil {
			return s, err
		}
		data = atr
	default:
		cmd, _, err := p.bytes(auth, sign)
		if err != nil {
			return s, err
		}
		resp, err := t.Transmit(cmd)
		if err != nil {
			return s, err
		}
		if len(resp) < 2 {
			return s, fmt.Errorf("response of %d bytes", len(resp))
		}
		s.SW = fmt.Sprintf("%04X", swOf(resp))
		data = resp[:len(resp)-2]
	}
	s.Len = len(data)
	switch p.Check {
	case CheckOpaque:
	case CheckValue:
		s.Value = Hex(data)
	default:
		s.Shape = Shape(data)
		s.ObjLen = DeclaredLen(data)
	}
	return s, nil
}

func swOf(resp []byte) uint16 {
	if len(resp) < 2 {
		return 0
	}
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
}
