package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"testing"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/vpcd"
)

// TestSimRunsCommand: 'mynahil sim -- CMD' runs CMD once the cards are in
// their readers (CMD itself sees the card inserted and connected), exits
// with CMD's status — 0, non-zero, 128+N for a signal — and the sim is
// stopped afterwards.
func TestSimRunsCommand(t *testing.T) {
	stand, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stand.Close() })
	state, err := os.MkdirTemp("", "simcmd") // short: the control socket's path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	t.Setenv(envRunCLI, "1") // CMD below is this test binary as the mynahil command
	sim := []string{"sim", "--state", state, "--vpcd", stand.Addr(), "--"}

	code, out, errOut := runCLI(t, append(sim, os.Args[0], "sim", "list", "--json")...)
	var cards []simd.SlotInfo
	if code != 0 || json.Unmarshal([]byte(out), &cards) != nil || len(cards) != 1 || !cards[0].Inserted || !cards[0].Connected {
		t.Fatalf("sim -- mynahil sim list: exit %d, stdout %q, stderr %q; want 0 and the card inserted and connected", code, out, errOut)
	}
	for _, tt := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"test -S \"$MYNAHIL_STATE/control.sock\" || exit 9; exit 1", 1},
		{"kill -TERM $$", 128 + 15},
	} {
		code, _, errOut := runCLI(t, append(sim, "sh", "-c", tt.script)...)
		if code != tt.code {
			t.Errorf("sim -- sh -c %q: exit %d (stderr %q), want %d", tt.script, code, errOut, tt.code)
		}
		if c, _, _ := runCLI(t, "sim", "list", "--state", state); c != cli.ExitEnv {
			t.Fatalf("after sim -- sh -c %q the sim still answers (sim list exit %d)", tt.script, c)
		}
	}
	if code, _, errOut := runCLI(t, "sim", "--state", state, "--"); code != cli.ExitUsage {
		t.Errorf("sim -- without a command: exit %d (%q), want 2", code, errOut)
	}
	if code, _, errOut := runCLI(t, append(sim, "/nonexistent/cmd")...); code != cli.ExitEnv {
		t.Errorf("sim -- /nonexistent/cmd: exit %d (%q), want 3", code, errOut)
	}
}
