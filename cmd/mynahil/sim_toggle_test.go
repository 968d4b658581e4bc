package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/vpcd"
)

// pcscdShows reports whether pcscd shows a card in reader, right now.
func pcscdShows(t *testing.T, reader string) bool {
	t.Helper()
	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rs, err := pc.Readers()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Name == reader {
			return r.Present()
		}
	}
	return false
}

// TestSimRemoveInsertWaitForPCSCD: 'sim remove' and 'sim insert' return
// once pcscd shows the change, so the very next PC/SC call sees the reader
// empty, then the card back in it.
func TestSimRemoveInsertWaitForPCSCD(t *testing.T) {
	pcscdenv.Require(t)
	const slot = 1
	reader := simd.ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	d := runDaemon(t, simd.Config{FirstSlot: slot, Backoff: 20 * time.Millisecond})
	t.Cleanup(func() { _ = pcscdenv.WaitState(context.Background(), reader, false) })
	state := d.Status().StateDir
	if code, _, errOut := runCLI(t, "sim", "wait", "--state", state, "--timeout", "60s"); code != 0 {
		t.Fatalf("sim wait: exit %d: %s", code, errOut)
	}
	for round := 0; round < 3; round++ {
		code, _, errOut := runCLI(t, "sim", "remove", "--all", "--state", state)
		if code != 0 {
			t.Fatalf("sim remove: exit %d: %s", code, errOut)
		}
		if pcscdShows(t, reader) {
			t.Fatalf("round %d: 'sim remove --all' returned while pcscd still shows the card in %q", round, reader)
		}
		code, _, errOut = runCLI(t, "sim", "insert", "--all", "--state", state)
		if code != 0 {
			t.Fatalf("sim insert: exit %d: %s", code, errOut)
		}
		if !pcscdShows(t, reader) {
			t.Fatalf("round %d: 'sim insert --all' returned before pcscd shows the card in %q", round, reader)
		}
	}
}

// TestSimInsertNotSeenExits3: when pcscd never shows the change (the card
// goes to a vpcd that is no pcscd reader), 'sim insert' exits 3 after
// --timeout, naming what pcscd does not show; --no-wait returns at once.
func TestSimInsertNotSeenExits3(t *testing.T) {
	stand, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stand.Close() })
	host, port, _ := net.SplitHostPort(stand.Addr())
	p, _ := strconv.Atoi(port)
	// slot 9: no pcscd has a reader of that name.
	d := runDaemon(t, simd.Config{VPCD: net.JoinHostPort(host, strconv.Itoa(p-9)), FirstSlot: 9, Backoff: 10 * time.Millisecond, RemovalTime: 10 * time.Millisecond})
	state := d.Status().StateDir
	if code, _, errOut := runCLI(t, "sim", "remove", "--all", "--state", state, "--no-wait"); code != 0 {
		t.Fatalf("sim remove --no-wait: exit %d: %s", code, errOut)
	}
	code, _, errOut := runCLI(t, "sim", "insert", "--all", "--state", state, "--timeout", "500ms")
	// With pcscd running it names the reader; without, pcscd.
	if code != cli.ExitEnv || !strings.Contains(errOut, "the sim made the change") || !strings.Contains(errOut, "pcscd") {
		t.Errorf("sim insert, never seen: exit %d, stderr %q; want 3 naming pcscd or %q", code, errOut, simd.ReaderName(9))
	}
}
