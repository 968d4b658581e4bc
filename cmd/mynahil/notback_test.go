package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simd"
)

// runDaemon runs a daemon in this process on a new state directory (cfg's
// StateDir and Logger are set here) until the test ends.
func runDaemon(t *testing.T, cfg simd.Config) *simd.Daemon {
	t.Helper()
	state, err := os.MkdirTemp("", "mynahil")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	cfg.StateDir, cfg.Logger = state, slog.New(slog.DiscardHandler)
	d, err := simd.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return d
}

// TestCardNotBackExits3: when the reader does not power the card up again
// after an office visit (here no vpcd listens), the command prints the
// changed card, says on stderr that the card is not back (with --json also
// in the result's "not_back"), and exits 3; the change is kept.
func TestCardNotBackExits3(t *testing.T) {
	d := runDaemon(t, simd.Config{VPCD: "127.0.0.1:1", RemovalTime: 10 * time.Millisecond, PutBackWait: 300 * time.Millisecond})
	state := d.Status().StateDir
	t.Setenv("MYNAHIL_AUTH_PIN", "4321")

	code, stdout, stderr := runCLI(t, "office", "reset-pin", "--state", state, "--card", "card-1", "--kind", "auth")
	if code != cli.ExitEnv || !strings.Contains(stderr, "did not power it up again within 300ms") || !strings.Contains(stderr, "the change is kept") ||
		!strings.Contains(stdout, "card card-1 (active)") {
		t.Errorf("reset-pin with the card not back: exit %d\nstdout %s\nstderr %s\nwant exit %d, the card printed and the reader named on stderr", code, stdout, stderr, cli.ExitEnv)
	}
	code, stdout, stderr = runCLI(t, "office", "reset-pin", "--state", state, "--card", "card-1", "--kind", "auth", "--json")
	var rep simapi.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if code != cli.ExitEnv || rep.NotBack == nil || rep.NotBack.Reader != simd.ReaderName(0) || rep.NotBack.Waited != "300ms" || !strings.Contains(stderr, "not power") {
		t.Errorf("reset-pin --json with the card not back: exit %d, not_back %+v, stderr %q", code, rep.NotBack, stderr)
	}
	resets := 0
	for _, e := range rep.History {
		if strings.Contains(e.What, "PIN re-set") {
			resets++
		}
	}
	if resets != 2 {
		t.Errorf("history %v: want both re-sets kept", rep.History)
	}
}

// TestLostClockExits3: 'mynahil sim' on a state directory whose clock.json
// is lost refuses to start with exit 3, naming the file.
func TestLostClockExits3(t *testing.T) {
	state, err := os.MkdirTemp("", "noclock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	d, err := simd.Open(simd.Config{StateDir: state, ClockSpec: "virtual:2031-01-15", VPCD: "127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if err := os.Remove(state + "/clock.json"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "sim", "--state", state, "--vpcd", "127.0.0.1:1")
	if code != cli.ExitEnv || !strings.Contains(stderr, "clock.json is missing") {
		t.Errorf("sim on a lost clock.json: exit %d, stderr %q; want exit %d naming clock.json", code, stderr, cli.ExitEnv)
	}
}

// TestControlPathOverAStateFile: 'mynahil sim --control unix:PATH' with a
// regular file at PATH (here the registry) refuses to start with exit 3
// and keeps the file (issue: the socket was renamed over office.json and
// deleted on exit).
func TestControlPathOverAStateFile(t *testing.T) {
	state, err := os.MkdirTemp("", "ctlpath")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	d, err := simd.Open(simd.Config{StateDir: state, VPCD: "127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	registry := filepath.Join(state, "office.json")
	before, err := os.ReadFile(registry)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "sim", "--state", state, "--vpcd", "127.0.0.1:1", "--control", "unix:"+registry)
	if code != cli.ExitEnv || !strings.Contains(stderr, "not a socket") {
		t.Errorf("sim --control unix:%s: exit %d, stderr %q; want exit %d and the refusal", registry, code, stderr, cli.ExitEnv)
	}
	if after, err := os.ReadFile(registry); err != nil || !bytes.Equal(after, before) {
		t.Errorf("office.json after the refused start: %d bytes, %v; want it as it was", len(after), err)
	}
}
