package operator

import (
	"context"
	"fmt"
	"strings"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/simapi"
)

// Sim is a scripted operator: it performs each step at the simulator's
// office through the control API of 'mynahil sim' (office.reset-pin on the
// card that sits in the step's reader), with the API's client
// (simapi.Client), which imports nothing of the simulator.
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
	switch st.Action {
	case ResetPIN:
		kind := simapi.Auth
		if st.PIN == jpkiclient.SignPIN {
			kind = simapi.Sign
		}
		if _, err := c.ResetPIN(ctx, simapi.PINParams{Card: card, Kind: kind, PIN: string(st.Value)}); err != nil {
			return fmt.Errorf("scripted operator: re-setting the %s of card %s: %w", st.PIN, card, err)
		}
		return nil
	}
	return fmt.Errorf("scripted operator: unknown action %q", st.Action)
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
