// Package simreplay replays transcripts (package harness/transcript) against
// the simulated card: it issues a card of a chosen profile, replays a
// recording of a physical card (or of another simulated card) against it
// and reports every difference (docs/record-compare.md). It is the
// simulator side of the record-and-compare loop, kept apart from the
// transcript package so that recording and comparing never depend on the
// simulator.
package simreplay

import (
	"fmt"
	"strings"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/transcript"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// Simulated is a freshly issued simulated card in process.
type Simulated struct {
	Transport harness.Transport
	Issued    *simcard.Issued
	AuthPIN   jpkiclient.PIN
	SignPIN   jpkiclient.PIN
	// Description names the card in reports.
	Description string
}

// Issue issues a card of profile p with a fresh test authority, its clock at
// the profile's issue date, and opens an in-process transport to it.
func Issue(p profile.Profile) (*Simulated, error) {
	is, err := simcard.NewIssuer(clock.NewVirtual(p.IssueDate.Time), nil)
	if err != nil {
		return nil, fmt.Errorf("creating issuer: %w", err)
	}
	iss, err := is.Issue(p)
	if err != nil {
		return nil, err
	}
	return &Simulated{
		Transport:   harness.NewInProcess(iss.Card),
		Issued:      iss,
		AuthPIN:     jpkiclient.PIN(p.PINs.Auth),
		SignPIN:     jpkiclient.PIN(p.PINs.Sign),
		Description: Describe(p),
	}, nil
}

// Describe names a profile's card in reports: token and ATR.
func Describe(p profile.Profile) string {
	token := p.Token
	if token == "" {
		token = profile.TokenCard
	}
	atr := p.ATR
	if atr == "" {
		atr = "contact"
	}
	return fmt.Sprintf("simulated card (token %s, ATR %s)", token, atr)
}

// Compare replays recorded against a fresh simulated card of profile p,
// with the profile's PINs in place of the placeholders, and returns the
// replay and its differences from the recording.
func Compare(recorded *transcript.Transcript, p profile.Profile) (*transcript.Transcript, []transcript.Difference, error) {
	sim, err := Issue(p)
	if err != nil {
		return nil, nil, fmt.Errorf("issuing the simulated card: %w", err)
	}
	defer harness.Close(sim.Transport)
	replayed, err := transcript.Replay(sim.Transport, recorded, sim.AuthPIN, sim.SignPIN, sim.Description)
	if err != nil {
		return replayed, nil, err
	}
	return replayed, transcript.Compare(recorded, replayed), nil
}

// ParseProfileFlags builds a profile from the default one, a token variant
// and an ATR (a built-in name or hex); both may be empty.
func ParseProfileFlags(base profile.Profile, token, atr string) (profile.Profile, error) {
	p := base
	if token != "" {
		p.Token = strings.ToLower(token)
	}
	if atr != "" {
		p.ATR = atr
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	return p, nil
}
