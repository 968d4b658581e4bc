package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mynahil/mynahil/pcscdenv"
)

func TestExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-pcscd")
	for _, tc := range []struct {
		name    string
		ci      string
		args    []string
		want    int
		ranTool bool
	}{
		{"no command", "", []string{"--pcscd", missing}, 2, false},
		{"unknown flag", "", []string{"--frobnicate", "true"}, 2, false},
		{"more slots than pcscd serves", "", []string{"--slots", "17", "--pcscd", missing, "--", "sh", "-c", "touch \"$MARK\""}, 2, false},
		{"no slots", "", []string{"--slots", "-1", "--pcscd", missing, "--", "sh", "-c", "touch \"$MARK\""}, 2, false},
		{"missing pcscd in CI fails before the command", "true", []string{"--pcscd", missing, "--", "sh", "-c", "touch \"$MARK\"; exit 0"}, 1, false},
		{"missing pcscd outside CI runs the command", "", []string{"--pcscd", missing, "--", "sh", "-c", "touch \"$MARK\"; exit 7"}, 7, true},
		{"a signal becomes 128+n", "", []string{"--pcscd", missing, "--", "sh", "-c", "touch \"$MARK\"; kill -TERM $$"}, 128 + 15, true},
		{"a command that cannot start", "", []string{"--pcscd", missing, "--", filepath.Join(missing, "nothing")}, 127, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := filepath.Join(t.TempDir(), "ran")
			t.Setenv("MARK", mark)
			t.Setenv("CI", tc.ci)
			if got := run(tc.args); got != tc.want {
				t.Errorf("exit code %d, want %d", got, tc.want)
			}
			if _, err := os.Stat(mark); (err == nil) != tc.ranTool {
				t.Errorf("command ran = %v, want %v", err == nil, tc.ranTool)
			}
		})
	}
}

// TestRunsNextToPCSCD runs a command that checks pcscd's socket answers,
// and checks the exit code comes back and a pcscd it started is gone after.
func TestRunsNextToPCSCD(t *testing.T) {
	// Keep other test processes off pcscd while this one starts and stops it.
	release, err := pcscdenv.LockSlots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	probe, err := pcscdenv.StartPCSCD(ctx, pcscdenv.WithoutSlotLock())
	if reason, ok := pcscdenv.SkipReason(err); ok {
		t.Skip(reason)
	}
	if err != nil {
		t.Fatal(err)
	}
	wasRunning := !probe.Owned()
	if err := probe.Stop(); err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(pcscdenv.RunDir, "pcscd.comm")
	if got := run([]string{"--", "sh", "-c", "test -S " + sock + " && exit 5"}); got != 5 {
		t.Fatalf("exit code %d, want 5 (the command's, with pcscd's socket present)", got)
	}
	conn, err := net.Dial("unix", sock)
	if conn != nil {
		conn.Close()
	}
	if alive := err == nil; alive != wasRunning {
		t.Errorf("pcscd answering after the run = %v, want %v (it was running before: %v)", alive, wasRunning, wasRunning)
	}
}

// TestIsolateAsAnotherUser: --isolate run by another user than root runs
// the command anyway, in this machine's namespaces, instead of failing.
func TestIsolateAsAnotherUser(t *testing.T) {
	ns, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Skip("no /proc/self/ns/net")
	}
	geteuid = func() int { return 1000 }
	defer func() { geteuid = os.Geteuid }()
	t.Setenv("NS", ns)
	// Outside CI a missing pcscd lets the command run without it, which is
	// what the namespace check needs; in CI it is a failure (tested apart).
	t.Setenv("CI", "")
	missing := filepath.Join(t.TempDir(), "no-pcscd")
	code := run([]string{"--isolate", "--pcscd", missing, "--", "sh", "-c", `[ "$(readlink /proc/self/ns/net)" = "$NS" ] && exit 7; exit 8`})
	if code != 7 {
		t.Errorf("exit %d, want 7: the command run in this machine's network namespace", code)
	}
}
