package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckReportsEnvironmentCause: a check that meets an environment
// fault reports it as a typed error (an *EnvFault anywhere in the error's
// chain, e.g. the PIN budget's refused PIN) through Fatalf, Errorf or
// Interrupt: the check ends Interrupted with that cause, not Failed.
func TestCheckReportsEnvironmentCause(t *testing.T) {
	refused := &EnvFault{Cause: "PIN refused", What: "the card refused the auth PIN given", Do: "check MYNAHIL_AUTH_PIN"}
	wrapped := fmt.Errorf("verifying: %w", refused)
	for name, body := range map[string]func(*T){
		"Fatalf":    func(t *T) { t.Fatalf("VERIFY: %v", wrapped) },
		"Errorf":    func(t *T) { t.Errorf("VERIFY: %v", wrapped) },
		"Interrupt": func(t *T) { t.Interrupt(wrapped) },
	} {
		t.Run(name, func(t *testing.T) {
			r := RunCheck(Check{ID: "X05", run: body}, &Config{}, NewRun())
			if r.Status != Interrupted || r.Fault == nil || r.Fault.Cause != "PIN refused" || !errors.Is(r.Fault, refused) {
				t.Fatalf("got %s %+v: %s", r.Status, r.Fault, r.Message)
			}
			if !strings.Contains(r.Message, "no verdict on the reader") || !strings.Contains(r.Message, "check MYNAHIL_AUTH_PIN") {
				t.Errorf("message %q lacks the cause or the remedy", r.Message)
			}
		})
	}
	r := RunCheck(Check{ID: "X06", run: func(t *T) { t.Fatalf("sending: %v", errors.New("6A82")) }}, &Config{}, NewRun())
	if r.Status != Failed || r.Fault != nil {
		t.Errorf("a plain error: got %s %+v", r.Status, r.Fault)
	}
}

// TestVerdictOfAnInterruptedRun: a run an environment fault stopped is
// "not run" (exit 3) when the fault came at its first check and
// "incomplete" (exit 4) after, even when a check failed before the fault:
// never "not conformant" (1), never "conformant".
func TestVerdictOfAnInterruptedRun(t *testing.T) {
	fault := &EnvFault{Cause: CauseSharing, What: "held", Do: "close it"}
	mandatory := func(id string, st Status) Result {
		r := Result{Check: Check{ID: id, Mandatory: true}, Status: st}
		if st == Interrupted {
			r.Fault = fault
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		results []Result
		verdict string
		code    int
	}{
		{"at the first check", []Result{mandatory("R01", Interrupted), mandatory("R05", Skipped)}, VerdictNotRun, ExitNotRun},
		{"after a pass", []Result{mandatory("R01", Passed), mandatory("R05", Interrupted)}, VerdictIncomplete, ExitIncomplete},
		{"after a failure", []Result{mandatory("R01", Failed), mandatory("R05", Interrupted)}, VerdictIncomplete, ExitIncomplete},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Summary{Results: tc.results}
			if v := s.Verdict(); v != tc.verdict || ExitCode(v) != tc.code {
				t.Errorf("verdict %q (exit %d), want %q (exit %d)", v, ExitCode(v), tc.verdict, tc.code)
			}
			js := s.JSON()
			if js.Fault == nil || js.Fault.Cause != CauseSharing || js.Fault.Do != "close it" {
				t.Errorf("report.json environment_fault %+v", js.Fault)
			}
		})
	}
}

// TestStopAtFault: the checks before the fault are marked as finished
// before it, those after it as not run, naming the check and the cause.
func TestStopAtFault(t *testing.T) {
	fault := &EnvFault{Cause: CausePCSCD}
	out := stopAtFault([]Result{{Check: Check{ID: "R01"}, Status: Failed}, {Check: Check{ID: "R05"}, Status: Interrupted, Fault: fault}},
		[]Check{{ID: "R13"}})
	if !out[0].BeforeFault || out[1].BeforeFault || out[0].Status != Failed {
		t.Errorf("before the fault: %+v", out[:2])
	}
	if len(out) != 3 || out[2].Status != Skipped || !strings.Contains(out[2].Message, "stopped at R05's environment fault (pcscd stopped)") {
		t.Errorf("after the fault: %+v", out[2:])
	}
}

// TestReportsNameTheFault: report.html and report.json name the fault's
// check, cause and remedy, and mark the checks finished before it.
func TestReportsNameTheFault(t *testing.T) {
	fault := &EnvFault{Cause: CauseSharing, What: "another application holds the reader", Do: "close the application"}
	results := stopAtFault([]Result{
		{Check: Check{ID: "R01", Mandatory: true}, Status: Passed},
		{Check: Check{ID: "R05", Mandatory: true}, Status: Interrupted, Fault: fault, Message: "interrupted"},
	}, []Check{{ID: "R13", Mandatory: true}})
	dir := t.TempDir()
	if _, err := WriteReports(dir, Summary{Env: Environment{Reader: "R"}, Results: results}); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	js, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	for _, want := range []string{"stopped the run at R05", CauseSharing, "close the application", ", finished before the fault</small>", ">incomplete<"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, want := range []string{`"environment_fault": {`, `"check": "R05"`, `"cause": "sharing violation"`, `"finished_before_fault": true`, `"interrupted": 1`, `"exit_code": 4`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("report.json lacks %q", want)
		}
	}
}
