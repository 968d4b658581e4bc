package main

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simd"
)

// simFlags are the flags that find a running sim.
type simFlags struct {
	state, control *string
}

func addSimFlags(fs *cli.FlagSet) simFlags {
	return simFlags{
		state:   fs.String("state", simd.DefaultStateDir(), "state `DIR` of the running sim; $MYNAHIL_STATE sets the default"),
		control: fs.String("control", "", "control `ADDR` of the running sim (default unix:<state>/control.sock)"),
	}
}

// addr is the control address, and where it came from for messages.
func (f simFlags) addr() (addr, where string) {
	if *f.control != "" {
		return *f.control, "control address " + *f.control
	}
	abs, err := filepath.Abs(*f.state)
	if err != nil {
		abs = *f.state
	}
	return control.DefaultAddr(*f.state), "state directory " + abs
}

// dial connects to the running sim; failing, an environment error that
// names the state directory it looked in.
func (f simFlags) dial() (*simapi.Client, error) {
	addr, where := f.addr()
	c, err := simapi.Dial(addr, control.WithStateToken(*f.state))
	if err != nil {
		return nil, cli.Envf("no 'mynahil sim' answers in %s (%s); start one there, or name its --state or $MYNAHIL_STATE", where, addr)
	}
	return c, nil
}

// callTimeout bounds one call to the sim; an office visit takes at most a
// few seconds (the removal time and the reader's power-up).
const callTimeout = 30 * time.Second

// callError gives a failed call its exit code: a refusal (an error with a
// rule) exits 1 and carries its rule, a broken connection exits 3.
func callError(err error) error {
	var re *simapi.RefusedError
	if errors.As(err, &re) {
		return &cli.Error{Code: cli.ExitFailed, Rule: re.RuleName, Err: err}
	}
	var ce *cli.Error
	if errors.As(err, &ce) {
		return err
	}
	return cli.Env(err)
}

// call runs one call with the CLI's deadline.
func call[R any](fn func(context.Context) (R, error)) (R, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	r, err := fn(ctx)
	if err != nil {
		return r, callError(err)
	}
	return r, nil
}
