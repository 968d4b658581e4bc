package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/simd/ready"
)

// simCommandConfig is how 'mynahil sim -- CMD' waits for its cards.
type simCommandConfig struct {
	state    string
	timeout  time.Duration // for the cards to be in their readers
	skipPCSC bool          // the vpcd is not behind this machine's pcscd
}

// runWithSim runs the daemon d, runs command once its cards are in their
// readers, stops d when command ends and returns command's exit status
// as the error's code (docs/cli.md, "Running a command with the sim").
// SIGINT and SIGTERM go to the command; the sim stops after it.
func runWithSim(ctx context.Context, stop context.CancelFunc, cio *cli.IO, d *simd.Daemon, sigs <-chan os.Signal, command []string, cfg simCommandConfig) error {
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	defer func() {
		stop()
		<-runErr
	}()
	wctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	readyErr := make(chan error, 1)
	go func() {
		_, err := ready.Wait(wctx, ready.Config{Control: d.ControlAddr(), StateDir: cfg.state, SkipPCSC: cfg.skipPCSC})
		readyErr <- err
	}()
	select {
	case err := <-readyErr:
		if err != nil {
			return cli.Env(fmt.Errorf("the cards were not in their readers within %v, so %s did not run: %w", cfg.timeout, command[0], err))
		}
	case err := <-runErr:
		runErr <- err // for the deferred wait
		return cli.Env(fmt.Errorf("the sim stopped before %s could run: %v", command[0], err))
	case sig := <-sigs:
		return cli.Env(fmt.Errorf("stopped by %v before %s ran", sig, command[0]))
	}
	return runCommand(cio, command, cfg.state, sigs)
}

// runCommand runs command with the sim's state directory in $MYNAHIL_STATE
// and passes SIGINT and SIGTERM on to it; its exit status becomes ours.
func runCommand(cio *cli.IO, command []string, state string, sigs <-chan os.Signal) error {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cio.Stdin, cio.Stdout, cio.Stderr
	if abs, err := filepath.Abs(state); err == nil {
		state = abs
	}
	cmd.Env = append(os.Environ(), "MYNAHIL_STATE="+state)
	if err := cmd.Start(); err != nil {
		return cli.Env(fmt.Errorf("starting %s: %w", command[0], err))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-sigs:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			return exitStatus(err)
		}
	}
}

// exitStatus turns a command's end into our exit: its code, or 128+N
// for a command killed by signal N (as a shell reports it). Nothing more is
// printed: the command spoke for itself.
func exitStatus(err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return cli.Reported(code, err)
}
