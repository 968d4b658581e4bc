package simd

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simcard/card"
)

// TestThroughPCSCD runs the daemon against the real pcscd + vpcd (a
// private pcscd from pcscdenv, or a running one that serves both vpcd
// readers): the card appears in "Virtual PCD 00 01", answers through
// PC/SC, and sim.remove / sim.insert are seen by PC/SC applications
// (docs/vpcd-pcscd.md §3.4). It uses slot 1 to stay out of the way of suites
// that attach to slot 0. Without pcscd installed it skips (fails in CI).
func TestThroughPCSCD(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd")
	}
	pcscdenv.Require(t)
	const slot = 1
	reader := ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}

	state := shortTempDir(t)
	d, err := Open(Config{StateDir: state, FirstSlot: slot, Backoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := pcscdenv.WaitState(context.Background(), reader, false); err != nil {
			t.Errorf("reader after shutdown: %v", err)
		}
	}()

	start := time.Now()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("card never appeared in %q: %v", reader, err)
	}
	t.Logf("card present in %q %v after Run", reader, time.Since(start).Round(time.Millisecond))

	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	transmitN := func(n int) time.Duration {
		t.Helper()
		c, err := pc.Connect(reader, pcsc.Shared)
		if err != nil {
			t.Fatalf("connecting to %q: %v", reader, err)
		}
		defer c.Close()
		atr, err := c.ATR()
		if err != nil || !bytes.Equal(atr, card.DefaultATR) {
			t.Fatalf("ATR through PC/SC: % X, %v; want % X", atr, err, card.DefaultATR)
		}
		begin := time.Now()
		for range n {
			resp, err := c.Transmit(selectJPKI)
			if err != nil || sw(resp) != 0x9000 {
				t.Fatalf("SELECT JPKI through PC/SC: % X, %v", resp, err)
			}
		}
		return time.Since(begin) / time.Duration(n)
	}
	t.Logf("SELECT round trip through pcscd: %v per APDU (50 APDUs)", transmitN(50))

	cl, err := control.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	s := slot
	if err := cl.Call(ctx, "sim.remove", Selector{Slot: &s}, nil); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("pcscd did not see the removal: %v", err)
	}
	t.Logf("removal seen by PC/SC after %v", time.Since(start).Round(time.Millisecond))
	if err := cl.Call(ctx, "sim.insert", Selector{Slot: &s}, nil); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("pcscd did not see the insertion: %v", err)
	}
	t.Logf("insertion seen by PC/SC after %v", time.Since(start).Round(time.Millisecond))
	transmitN(1)
}
