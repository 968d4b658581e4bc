package framework

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
)

// TestDialExistingPassesToken: a running daemon on TCP needs its token;
// the framework sends the one from $MYNAHIL_CONTROL_TOKEN or, without it,
// from $MYNAHIL_STATE's control.token.
func TestDialExistingPassesToken(t *testing.T) {
	dir := t.TempDir()
	tok, err := control.WriteToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := control.Listen("tcp:127.0.0.1:0", control.RequireToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("ping", func(context.Context, json.RawMessage) (any, error) { return "pong", nil })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); srv.Close() })
	for _, tc := range []struct {
		name, token, state string
		ok                 bool
	}{
		{"token variable", tok, "", true},
		{"state directory", "", dir, true},
		{"neither", "", "", false},
		{"wrong token", "nope", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvControlToken, tc.token)
			t.Setenv(EnvState, tc.state)
			c, err := dialExisting(srv.Addr())
			if err == nil {
				defer c.Close()
				cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer ccancel()
				err = c.Call(cctx, "ping", nil, nil)
			}
			if (err == nil) != tc.ok {
				t.Errorf("calling the daemon: %v, want success %v", err, tc.ok)
			}
		})
	}
}

// TestExistingDaemonOnWallClock: a world cannot use a daemon whose clock
// it cannot set, and says how to start one it can.
func TestExistingDaemonOnWallClock(t *testing.T) {
	dir, err := os.MkdirTemp("", "fw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d, err := simd.Open(simd.Config{StateDir: dir, VPCD: "127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	t.Setenv(EnvControlToken, "")
	t.Setenv(EnvState, "")
	w := &daemon{kind: target.PCSC, slot: 1}
	defer w.cl.close()
	_, err = w.attachExisting(d.ControlAddr(), profile.Default(), time.Now())
	if err == nil || !strings.Contains(err.Error(), "daemon at "+d.ControlAddr()+" runs on the wall clock") || !strings.Contains(err.Error(), "--clock virtual:") {
		t.Errorf("attaching to a wall-clock daemon: %v, want an error telling to start 'mynahil sim --clock virtual:…'", err)
	}
}
