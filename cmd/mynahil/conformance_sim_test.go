package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
)

// readerEmptyNow reports whether pcscd shows no card in reader at this
// moment (no waiting).
func readerEmptyNow(t *testing.T, reader string) bool {
	t.Helper()
	ctx, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ctx.Close() }()
	rs := []pcsc.ReaderState{{Reader: reader, CurrentState: pcsc.StateUnaware}}
	if err := ctx.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	return rs[0].EventState&pcsc.StateEmpty != 0
}

// TestConformanceSimBackToBack: three `conformance --sim` runs in a row
// all say conformant (exit 0), each on stdout, and each leaves the
// virtual reader empty as pcscd sees it when it exits (issue 17: the
// second run found the first run's card and could not run).
func TestConformanceSimBackToBack(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd with vpcd")
	}
	pcscdenv.Require(t)
	for i := 1; i <= 3; i++ {
		code, stdout, stderr := runCLI(t, "conformance", "--sim", "--soak", "100")
		if code != conformance.ExitConformant {
			t.Fatalf("run %d: exit %d, want 0\nstdout: %s\nstderr: %s", i, code, stdout, stderr)
		}
		if !strings.Contains(stdout, conformance.VirtualReader+": CONFORMANT") {
			t.Errorf("run %d: stdout %q lacks the verdict", i, stdout)
		}
		if !readerEmptyNow(t, conformance.VirtualReader) {
			t.Fatalf("run %d exited with its card still showing in %q", i, conformance.VirtualReader)
		}
	}
}

// TestConformanceSimWaitsForTheLeavingCard: a card that has just left the
// slot (its server closed, pcscd not yet told by its next presence poll)
// is waited for, not taken for another process's card.
func TestConformanceSimWaitsForTheLeavingCard(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd with vpcd")
	}
	pcscdenv.Require(t)
	sim, err := conformance.StartSim(0, mustProfile(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second); err != nil {
		sim.Close()
		t.Fatal(err)
	}
	sim.Close() // gone from vpcd; pcscd shows it until its next poll
	code, stdout, stderr := runCLI(t, "conformance", "--sim", "--only", "R05")
	if code != conformance.ExitIncomplete || strings.Contains(stderr, "already holds a card") {
		t.Fatalf("exit %d, want 4 (one check of many)\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

// TestConformanceVerdictOnStdout: the verdict line is on stdout and the
// details (progress, failures, the reason a run could not start) on
// stderr; with --json, stdout holds the JSON verdict only.
func TestConformanceVerdictOnStdout(t *testing.T) {
	code, stdout, stderr := runCLI(t, "conformance", "--reader", "Virtual PCD 00 07")
	if code != conformance.ExitNotRun {
		t.Fatalf("exit %d, want 3\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if strings.TrimSpace(stdout) != "Virtual PCD 00 07: NOT RUN, no verdict on the reader" {
		t.Errorf("stdout %q, want the verdict line alone", stdout)
	}
	if !strings.Contains(stderr, "could not run") || strings.Contains(stderr, "NOT RUN") {
		t.Errorf("stderr %q: want the reason, not the verdict line", stderr)
	}
	if testing.Short() {
		return
	}
	pcscdenv.Require(t)
	code, stdout, stderr = runCLI(t, "conformance", "--sim", "--only", "R05,R13")
	if code != conformance.ExitIncomplete {
		t.Fatalf("exit %d, want 4\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], conformance.VirtualReader+": INCOMPLETE (2 checks") {
		t.Errorf("stdout %q, want the verdict line alone", stdout)
	}
	for _, detail := range []string{"baseline:", "R05 PASSED", "not run (left out with --only)"} {
		if !strings.Contains(stderr, detail) {
			t.Errorf("stderr lacks %q:\n%s", detail, stderr)
		}
	}
	code, stdout, _ = runCLI(t, "conformance", "--sim", "--only", "R05", "--json")
	var v struct {
		Verdict string `json:"verdict"`
		Code    int    `json:"code"`
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || v.Verdict != conformance.VerdictIncomplete || v.Code != code {
		t.Errorf("--json stdout %q (%v), exit %d", stdout, err, code)
	}
}
