// Package operator is the person at the counter: the office's part of a
// card's life (re-setting a blocked PIN) as steps a suite asks for and
// waits on. On a physical card a Terminal operator shows the step and waits
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

// Action is what the office is asked to do.
type Action string

// The office actions a suite asks for.
const (
	// ResetPIN: the office re-sets a PIN (the holder chooses it again;
	// lifecycle-rules: only the office can unblock a PIN), which also
	// restores its tries.
	ResetPIN Action = "reset-pin"
)

// Step is one thing the operator must do.
type Step struct {
	Action Action
	PIN    jpkiclient.PINRef // which PIN (ResetPIN)
	// Value is the PIN to set: the one the run was given, so the card
	// leaves the office as it came.
	Value jpkiclient.PIN
	// Reader is the reader the card sits in.
	Reader string
}

// Instruction is the step in words, for a person: never with the PIN.
func (s Step) Instruction() string {
	switch s.Action {
	case ResetPIN:
		return fmt.Sprintf("take the card out of %q, have the office re-set the %s to the value you gave this run, put the card back, then press Enter", s.Reader, s.PIN)
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
