// Package operator is the person at the counter: the office's part of a
// card's life (re-setting a blocked PIN, revoking and issuing certificates,
// a loss report and the card found) as steps a suite asks for and waits
// on. On a physical card a Terminal operator shows the step and waits
// for Enter; in the rehearsal (make rehearsal) a scripted operator performs
// the same step through the simulator's control API, so the operator steps
// are tested too (docs/physical-cards.md).
//
// Steps never carry a PIN in their text: the PIN to set travels in Step.PIN
// (a jpkiclient.PIN, which prints as "****") and is never shown.
package operator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// EnvOperator selects the operator: "terminal" (prompts on /dev/tty) or
// "sim:ADDR" (the simulator's control API at ADDR, unix:/path or
// tcp:127.0.0.1:PORT). Unset: no operator; interactive specs skip.
const EnvOperator = "MYNAHIL_OPERATOR"

// Action is what the office is asked to do: a named step a person can do
// at a real municipal counter (docs/physical-cards.md, "Counter steps").
type Action string

// The office actions a suite asks for (docs/lifecycle-rules.md §1).
const (
	// ResetPIN: the office re-sets a JPKI PIN (Step.PIN) to Step.Value,
	// which unlocks it after a lockout and restores its tries; only the
	// office can unblock a PIN.
	ResetPIN Action = "reset-pin"
	// ResetCardInfoPIN: the office re-sets the card-info input support
	// applet's PIN (券面事項入力補助用暗証番号) to Step.Value.
	ResetCardInfoPIN Action = "reset-cardinfo-pin"
	// Revoke: the holder gives up a certificate (the one Step.PIN guards);
	// the office revokes it and takes it off the card.
	Revoke Action = "revoke"
	// IssueCertificate: the office issues a new certificate (the one
	// Step.PIN guards), with new keys and Step.Value as its PIN.
	IssueCertificate Action = "issue-certificate"
	// ReportLoss: the holder reports the card lost; both certificates are
	// revoked. The card stays where it is: the office does not hold it.
	ReportLoss Action = "report-loss"
	// CardFound: the lost card is brought to the counter; the office
	// withdraws the loss report and issues both certificates anew, with
	// Step.Value as the auth PIN and Step.SignValue as the sign PIN (a
	// revocation is never undone).
	CardFound Action = "card-found"
)

// Visits reports whether the card leaves its reader for the step (the
// office changes its chip), so that the suite connects to it afresh after.
func (a Action) Visits() bool { return a != ReportLoss }

// Step is one thing the operator must do.
type Step struct {
	Action Action
	// PIN is the PIN the step re-sets (ResetPIN), or the PIN guarding the
	// certificate it revokes or issues (Revoke, IssueCertificate).
	PIN jpkiclient.PINRef
	// Value is the PIN to set: the one the run was given, so the card
	// leaves the office as it came (the auth PIN for CardFound).
	Value jpkiclient.PIN
	// SignValue is the sign PIN to set when CardFound issues both
	// certificates anew.
	SignValue jpkiclient.PIN
	// Reader is the reader the card sits in.
	Reader string
}

// Instruction is the step in words, for a person: never with the PIN.
func (s Step) Instruction() string {
	cert := "authentication"
	if s.PIN == jpkiclient.SignPIN {
		cert = "signing"
	}
	out := fmt.Sprintf("take the card out of %q and to the office", s.Reader)
	back := "put the card back, then press Enter"
	switch s.Action {
	case ResetPIN:
		return fmt.Sprintf("take the card out of %q, have the office re-set the %s to the value you gave this run, %s", s.Reader, s.PIN, back)
	case ResetCardInfoPIN:
		return fmt.Sprintf("%s; have it re-set the card-info PIN (券面事項入力補助用暗証番号) to the value you gave this run; %s", out, back)
	case Revoke:
		return fmt.Sprintf("%s; as its holder, give up its %s certificate (the office revokes it); %s", out, cert, back)
	case IssueCertificate:
		return fmt.Sprintf("%s; have it issue a new %s certificate with the %s you gave this run; %s", out, cert, s.PIN, back)
	case ReportLoss:
		return fmt.Sprintf("report the card in %q lost (at the office or the JPKI call centre) so that both its certificates are revoked; leave the card in the reader, then press Enter", s.Reader)
	case CardFound:
		return fmt.Sprintf("%s; report it found (withdraw the loss report) and have both certificates issued anew with the auth and sign PINs you gave this run; %s", out, back)
	}
	return fmt.Sprintf("perform %q on the card in %q, then press Enter", s.Action, s.Reader)
}

// Operator performs steps. Do returns when the step is done (the card may
// have left the reader and come back meanwhile) or with the reason it was
// not.
type Operator interface {
	Do(ctx context.Context, s Step) error
	String() string
}

// ErrDeclined: the person at the terminal declined the step.
var ErrDeclined = errors.New("operator declined the step")

// FromEnv returns the operator MYNAHIL_OPERATOR names, or nil when none.
func FromEnv() (Operator, error) {
	v := strings.TrimSpace(os.Getenv(EnvOperator))
	switch {
	case v == "":
		return nil, nil
	case v == "terminal":
		return Terminal{}, nil
	case strings.HasPrefix(v, "sim:"):
		return NewSim(strings.TrimPrefix(v, "sim:")), nil
	}
	return nil, fmt.Errorf("%s=%q: want terminal or sim:ADDR", EnvOperator, v)
}

// Terminal asks a person on the controlling terminal (/dev/tty, which
// works under go test and Ginkgo, whose stdin is not the terminal).
type Terminal struct {
	// TTY is the terminal's path; "" means /dev/tty.
	TTY string
}

func (Terminal) String() string { return "a person at the terminal" }

// Do shows the step and waits for a line: empty or "y" means done, "n"
// or end of input means declined.
func (t Terminal) Do(ctx context.Context, s Step) error {
	path := t.TTY
	if path == "" {
		path = "/dev/tty"
	}
	tty, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("asking the operator: no terminal: %w", err)
	}
	defer tty.Close()
	if _, err := fmt.Fprintf(tty, "\nmynahil operator step: %s (n to decline): ", s.Instruction()); err != nil {
		return fmt.Errorf("asking the operator: %w", err)
	}
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(tty).ReadString('\n')
		answer <- strings.TrimSpace(line)
	}()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for the operator: %w", ctx.Err())
	case a := <-answer:
		if a == "" || strings.EqualFold(a, "y") {
			return nil
		}
		return ErrDeclined
	}
}

// Func is an operator made of a function: a stand-in for the office on a
// simulated card, or a test's script.
type Func struct {
	Name string
	Fn   func(ctx context.Context, s Step) error
}

// Do calls Fn.
func (f Func) Do(ctx context.Context, s Step) error { return f.Fn(ctx, s) }

func (f Func) String() string { return f.Name }
