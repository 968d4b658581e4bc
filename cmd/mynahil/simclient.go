package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/control"
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
func (f simFlags) dial() (*control.Client, error) {
	addr, where := f.addr()
	c, err := control.Dial(addr, control.WithStateToken(*f.state))
	if err != nil {
		return nil, cli.Envf("no 'mynahil sim' answers in %s (%s); start one there, or name its --state or $MYNAHIL_STATE", where, addr)
	}
	return c, nil
}

// call invokes method on the sim; a refusal (an error with a rule) exits 1
// and carries its rule, a broken connection exits 3.
func call(c *control.Client, method string, params, result any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.Call(ctx, method, params, result)
	var ce *control.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		msg := ce.Message
		if ce.Rule != "" && !strings.Contains(msg, "rule "+ce.Rule) {
			msg = fmt.Sprintf("%s (rule %s)", msg, ce.Rule)
		}
		return &cli.Error{Code: cli.ExitFailed, Rule: ce.Rule, Err: errors.New(msg)}
	default:
		return cli.Env(fmt.Errorf("calling %s: %w", method, err))
	}
}
