package operator_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
)

// fakeSim serves sim.list and office.reset-pin like 'mynahil sim' and
// records the reset it was asked for.
func fakeSim(t *testing.T) (addr string, resets chan map[string]string) {
	t.Helper()
	srv, err := control.Listen("unix:" + t.TempDir() + "/control.sock")
	if err != nil {
		t.Fatal(err)
	}
	resets = make(chan map[string]string, 1)
	srv.Handle("sim.list", func(context.Context, json.RawMessage) (any, error) {
		return []map[string]any{
			{"card": "card-1", "slot": 0, "reader": "Virtual PCD 00 00"},
			{"card": "card-2", "slot": 1, "reader": "Virtual PCD 00 01"},
		}, nil
	})
	srv.Handle("office.reset-pin", func(_ context.Context, p json.RawMessage) (any, error) {
		var m map[string]string
		if err := json.Unmarshal(p, &m); err != nil {
			return nil, err
		}
		resets <- m
		return nil, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); _ = srv.Close(); <-done })
	return srv.Addr(), resets
}

func TestSimResetsThePINOfTheCardInTheReader(t *testing.T) {
	addr, resets := fakeSim(t)
	t.Setenv(operator.EnvOperator, "sim:"+addr)
	op, err := operator.FromEnv()
	if err != nil || op == nil {
		t.Fatalf("FromEnv: %v, %v", op, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := op.Do(ctx, operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.SignPIN, Value: "SIGN2026", Reader: "Virtual PCD 00 01"}); err != nil {
		t.Fatal(err)
	}
	got := <-resets
	want := map[string]string{"card": "card-2", "kind": "sign", "pin": "SIGN2026"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("office.reset-pin %s = %q, want %q", k, got[k], v)
		}
	}
	err = op.Do(ctx, operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.AuthPIN, Value: "1234", Reader: "Some Other Reader"})
	if err == nil || !strings.Contains(err.Error(), "no card") {
		t.Errorf("a reader without a sim card: %v, want a no-card error", err)
	}
}

func TestInstructionNeverShowsThePIN(t *testing.T) {
	s := operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.AuthPIN, Value: "9876", Reader: "R"}
	if in := s.Instruction(); strings.Contains(in, "9876") || !strings.Contains(in, "re-set the auth PIN") {
		t.Errorf("Instruction() = %q", in)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(operator.EnvOperator, "")
	if op, err := operator.FromEnv(); op != nil || err != nil {
		t.Errorf("unset: %v, %v; want no operator", op, err)
	}
	t.Setenv(operator.EnvOperator, "terminal")
	if op, err := operator.FromEnv(); err != nil || op.String() != "a person at the terminal" {
		t.Errorf("terminal: %v, %v", op, err)
	}
	t.Setenv(operator.EnvOperator, "robot")
	if _, err := operator.FromEnv(); err == nil {
		t.Error("an unknown operator was accepted")
	}
}

func TestTerminalWithoutATerminal(t *testing.T) {
	err := operator.Terminal{TTY: t.TempDir() + "/no-such-tty"}.Do(context.Background(), operator.Step{Action: operator.ResetPIN})
	if err == nil || errors.Is(err, operator.ErrDeclined) {
		t.Errorf("no terminal: %v, want an error other than a decline", err)
	}
}
