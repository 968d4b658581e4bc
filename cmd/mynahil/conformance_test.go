package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// TestConformanceUsageErrors: a typo is a usage error (2), never a verdict.
func TestConformanceUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown check ID", []string{"--only", "R05,R99"}, "unknown check IDs R99"},
		{"bad flag", []string{"--no-such-flag"}, "no-such-flag"},
		{"fault without sim", []string{"--fault", "stall"}, "--fault needs --sim"},
		{"unknown fault", []string{"--sim", "--fault", "nope"}, `unknown fault profile "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, append([]string{"conformance", "--json"}, tc.args...)...)
			if code != conformance.ExitUsage {
				t.Fatalf("exit %d (%s%s), want 2", code, out, stderr)
			}
			var got struct {
				Error string `json:"error"`
				Code  int    `json:"code"`
			}
			line := out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]
			if jerr := json.Unmarshal([]byte(line), &got); jerr != nil || got.Code != 2 || !strings.Contains(got.Error, tc.want) {
				t.Errorf("--json error %q (%v), want code 2 and %q", line, jerr, tc.want)
			}
		})
	}
}

// TestConformanceReaderNotListed: a typo in --reader (or no pcscd at all)
// is "could not run" (3) with the reason, and the report says "not run".
func TestConformanceReaderNotListed(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "conformance", "--reader", "Virtual PCD 00 07", "--report", dir)
	if code != conformance.ExitNotRun {
		t.Fatalf("exit %d (%s), want 3", code, stderr)
	}
	if !strings.Contains(stderr, "could not run") {
		t.Errorf("stderr %q does not say the run could not start", stderr)
	}
	var js conformance.JSONReport
	b, rerr := os.ReadFile(filepath.Join(dir, "report.json"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if err := json.Unmarshal(b, &js); err != nil || js.Verdict != conformance.VerdictNotRun || js.NotRun == "" {
		t.Errorf("report.json: verdict %q reason %q (%v)", js.Verdict, js.NotRun, err)
	}
}

// TestConformanceSimRefusesABusySlot: with another card already in the
// virtual reader, --sim could not run and says why; no check talks to the
// other card.
func TestConformanceSimRefusesABusySlot(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd with vpcd")
	}
	pcscdenv.Require(t)
	sim, err := conformance.StartSim(0, mustProfile(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if err := conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "conformance", "--sim", "--only", "R05")
	if code != conformance.ExitNotRun || !strings.Contains(stderr, "another process serves this vpcd slot") {
		t.Errorf("conformance --sim with the slot taken: exit %d, %s", code, stderr)
	}
}

func mustProfile(t *testing.T) faults.Profile {
	t.Helper()
	p, ok := faults.ByName("healthy")
	if !ok {
		t.Fatal("no healthy profile")
	}
	return p
}
