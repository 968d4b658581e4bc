package simd

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
)

// runDaemon opens and runs a daemon on state with TCP control until the
// test ends, and returns its control address.
func runDaemon(t *testing.T, state string) (addr string, stop func()) {
	t.Helper()
	d, err := Open(Config{StateDir: state, Control: "tcp:127.0.0.1:0", VPCD: "127.0.0.1:1",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(func() {
		select {
		case <-ctx.Done():
		default:
			stop()
		}
	})
	return d.ControlAddr(), stop
}

func callList(addr string, opts ...control.DialOption) error {
	c, err := control.Dial(addr, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Call(ctx, "office.cards", nil, nil)
}

// TestTCPControlNeedsToken: on a TCP control address every call needs the
// token the daemon writes (mode 0600) to its state directory at each
// start; a missing, wrong or previous run's token is refused.
func TestTCPControlNeedsToken(t *testing.T) {
	t.Setenv(control.TokenEnv, "")
	state := shortTempDir(t)
	addr, stop := runDaemon(t, state)

	fi, err := os.Stat(control.TokenFile(state))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", control.TokenFile(state), fi.Mode().Perm())
	}
	unauthorized := func(err error) bool {
		var ce *control.Error
		return errors.As(err, &ce) && ce.Rule == control.RuleUnauthorized
	}
	if err := callList(addr); !unauthorized(err) {
		t.Errorf("call without a token: %v, want rule %s", err, control.RuleUnauthorized)
	}
	if err := callList(addr, control.WithToken("0123")); !unauthorized(err) {
		t.Errorf("call with a wrong token: %v, want rule %s", err, control.RuleUnauthorized)
	}
	if err := callList(addr, control.WithStateToken(state)); err != nil {
		t.Errorf("call with the state directory's token: %v", err)
	}
	old, err := control.ReadToken(state)
	if err != nil || old == "" {
		t.Fatalf("ReadToken: %q, %v", old, err)
	}
	t.Setenv(control.TokenEnv, old)
	if err := callList(addr); err != nil {
		t.Errorf("call with $%s: %v", control.TokenEnv, err)
	}
	t.Setenv(control.TokenEnv, "")

	stop()
	addr, _ = runDaemon(t, state)
	if err := callList(addr, control.WithToken(old)); !unauthorized(err) {
		t.Errorf("call with the previous run's token: %v, want rule %s", err, control.RuleUnauthorized)
	}
	if err := callList(addr, control.WithStateToken(state)); err != nil {
		t.Errorf("call with the new token: %v", err)
	}
}
