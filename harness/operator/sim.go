package operator

import (
	"context"
	"fmt"
	"strings"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/simapi"
)

// Sim is a scripted operator: it performs each step at the simulator's
// office through the control API of 'mynahil sim', on the card that sits in
// the step's reader, with the API's client (simapi.Client), which imports
// nothing of the simulator.
type Sim struct {
	Addr string // control address: unix:/path or tcp:127.0.0.1:PORT
}

// NewSim returns a scripted operator for the sim at addr.
func NewSim(addr string) *Sim { return &Sim{Addr: addr} }

func (s *Sim) String() string { return "the scripted office at " + s.Addr }

// Do performs the step.
func (s *Sim) Do(ctx context.Context, st Step) error {
	c, err := simapi.Dial(s.Addr)
	if err != nil {
		return fmt.Errorf("scripted operator: %w", err)
	}
	defer c.Close()
	card, err := s.cardIn(ctx, c, st.Reader)
	if err != nil {
		return err
	}
	if err := Perform(ctx, c, card, st); err != nil {
		return fmt.Errorf("scripted operator: card %s: %w", card, err)
	}
	return nil
}

// Office is what Perform needs of the municipal office: its control API
// (simapi.Client, or the daemon's own office).
type Office interface {
	ResetPIN(ctx context.Context, p simapi.PINParams) (simapi.Report, error)
	ResetCardInfoPIN(ctx context.Context, p simapi.CardPINParams) (simapi.Report, error)
	Revoke(ctx context.Context, p simapi.CertParams) (simapi.Report, error)
	IssueCertificate(ctx context.Context, p simapi.PINParams) (simapi.Report, error)
	ReportLoss(ctx context.Context, p simapi.CardParams) (simapi.Report, error)
	CardFound(ctx context.Context, p simapi.CardParams) (simapi.Report, error)
}

// Perform does step st at office o for card: each Action as the office's
// methods (docs/daemon.md, "Control methods"). CardFound is three: the loss
// report withdrawn, then each certificate issued anew.
func Perform(ctx context.Context, o Office, card string, st Step) error {
	kind := kindOf(st.PIN)
	var err error
	switch st.Action {
	case ResetPIN:
		_, err = o.ResetPIN(ctx, simapi.PINParams{Card: card, Kind: kind, PIN: string(st.Value)})
	case ResetCardInfoPIN:
		_, err = o.ResetCardInfoPIN(ctx, simapi.CardPINParams{Card: card, PIN: string(st.Value)})
	case Revoke:
		_, err = o.Revoke(ctx, simapi.CertParams{Card: card, Kind: kind})
	case IssueCertificate:
		_, err = o.IssueCertificate(ctx, simapi.PINParams{Card: card, Kind: kind, PIN: string(st.Value)})
	case ReportLoss:
		_, err = o.ReportLoss(ctx, simapi.CardParams{Card: card})
	case CardFound:
		if _, err = o.CardFound(ctx, simapi.CardParams{Card: card}); err != nil {
			break
		}
		if _, err = o.IssueCertificate(ctx, simapi.PINParams{Card: card, Kind: simapi.Auth, PIN: string(st.Value)}); err != nil {
			break
		}
		_, err = o.IssueCertificate(ctx, simapi.PINParams{Card: card, Kind: simapi.Sign, PIN: string(st.SignValue)})
	default:
		return fmt.Errorf("unknown action %q", st.Action)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", st.Action, err)
	}
	return nil
}

// kindOf is the certificate a PIN guards.
func kindOf(ref jpkiclient.PINRef) simapi.Kind {
	if ref == jpkiclient.SignPIN {
		return simapi.Sign
	}
	return simapi.Auth
}

// cardIn finds the card in reader (pcscd may add a suffix to the name the
// sim expects, so a prefix match counts).
func (s *Sim) cardIn(ctx context.Context, c *simapi.Client, reader string) (string, error) {
	slots, err := c.List(ctx)
	if err != nil {
		return "", fmt.Errorf("scripted operator: listing the sim's cards: %w", err)
	}
	for _, sl := range slots {
		if sl.Reader != "" && (sl.Reader == reader || strings.HasPrefix(reader, sl.Reader)) {
			return sl.Card, nil
		}
	}
	return "", fmt.Errorf("scripted operator: no card of the sim at %s sits in %q", s.Addr, reader)
}
