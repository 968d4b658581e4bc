package operator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/simapi"
)

// fakeSim serves sim.list and office.reset-pin like 'mynahil sim' and
// records the reset it was asked for; every other method is missing.
type fakeSim struct {
	simapi.Office
	simapi.Sim
	resets chan simapi.PINParams
}

func (f fakeSim) List(context.Context) ([]simapi.SlotInfo, error) {
	return []simapi.SlotInfo{
		{Card: "card-1", Slot: 0, Reader: "Virtual PCD 00 00"},
		{Card: "card-2", Slot: 1, Reader: "Virtual PCD 00 01"},
	}, nil
}

func (f fakeSim) ResetPIN(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	f.resets <- p
	return simapi.Report{ID: p.Card}, nil
}

func serveFake(t *testing.T) (addr string, resets chan simapi.PINParams) {
	t.Helper()
	srv, err := control.Listen("unix:" + t.TempDir() + "/control.sock")
	if err != nil {
		t.Fatal(err)
	}
	f := fakeSim{resets: make(chan simapi.PINParams, 1)}
	simapi.Register(srv, f, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); _ = srv.Close(); <-done })
	return srv.Addr(), f.resets
}

func TestSimResetsThePINOfTheCardInTheReader(t *testing.T) {
	addr, resets := serveFake(t)
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
	if got, want := <-resets, (simapi.PINParams{Card: "card-2", Kind: simapi.Sign, PIN: "SIGN2026"}); got != want {
		t.Errorf("reset-pin %+v, want %+v", got, want)
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
