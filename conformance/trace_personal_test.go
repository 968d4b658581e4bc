package conformance

import (
	"strings"
	"testing"

	apdutrace "github.com/mynahil/mynahil/harness/trace"
)

// TestTraceHidesPersonalData: on a physical card (no card control) a
// check's trace shows the signing certificate's length, not its bytes,
// unless MYNAHIL_REPORT_PERSONAL=1; a simulated card's trace keeps them.
func TestTraceHidesPersonalData(t *testing.T) {
	name := "試験　花子"
	cert := append(append([]byte{0x30, 0x82, 0x06, 0xE4, 0x0C, byte(len(name))}, name...), 0x90, 0x00)
	record := func(physical bool) string {
		tr := startTrace(physical)
		defer stopTrace()
		traceExchange([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}, []byte{0x90, 0x00}, 0, nil)
		traceExchange([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, []byte{0x90, 0x00}, 0, nil)
		traceExchange([]byte{0x00, 0xB0, 0x00, 0x00, 0x00}, cert, 0, nil)
		return strings.Join(tr.lines(), "\n")
	}
	shows := func(s string) bool { return strings.Contains(s, hexs([]byte(name))) }

	t.Setenv(apdutrace.EnvReportPersonal, "")
	if s := record(true); shows(s) || !strings.Contains(s, apdutrace.HiddenText(len(cert)-2)+" 90 00") {
		t.Errorf("physical card's trace:\n%s", s)
	}
	if s := record(false); !shows(s) {
		t.Errorf("simulated card's trace hides the data:\n%s", s)
	}
	t.Setenv(apdutrace.EnvReportPersonal, "1")
	if s := record(true); !shows(s) {
		t.Errorf("physical card's trace with %s=1 hides the data:\n%s", apdutrace.EnvReportPersonal, s)
	}
}

// fakeControl is card control that does nothing: a run with it is a run on
// the simulated card, as far as the runner can tell.
type fakeControl struct{}

func (fakeControl) Remove()           {}
func (fakeControl) Insert()           {}
func (fakeControl) VanishOnNextAPDU() {}

// TestRunnerMasksPhysicalTraces: the runner, not only the trace layer,
// chooses the trace mode from the run: a check on a physical card (no card
// control) reports a trace with the holder's data hidden, in a failed and
// in an incomplete check alike; on the simulated card the trace keeps the
// bytes (issue 23.9: the mode inverted in the runner went unnoticed).
func TestRunnerMasksPhysicalTraces(t *testing.T) {
	t.Setenv(apdutrace.EnvReportPersonal, "")
	name := "試験　花子"
	cert := append(append([]byte{0x30, 0x82, 0x06, 0xE4, 0x0C, byte(len(name))}, name...), 0x90, 0x00)
	reads := func() {
		traceExchange([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}, []byte{0x90, 0x00}, 0, nil)
		traceExchange([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, []byte{0x90, 0x00}, 0, nil)
		traceExchange([]byte{0x00, 0xB0, 0x00, 0x00, 0x00}, cert, 0, nil)
	}
	ends := map[string]func(*T){
		"failed":     func(t *T) { reads(); t.Fatalf("the reader did something wrong") },
		"incomplete": func(t *T) { reads(); t.SkipPart("signature", "the auth PIN (MYNAHIL_AUTH_PIN)", "no auth PIN given") },
	}
	for end, body := range ends {
		for _, card := range []struct {
			what    string
			control CardControl
			shown   bool
		}{{"physical card", nil, false}, {"simulated card", fakeControl{}, true}} {
			t.Run(end+" on a "+card.what, func(t *testing.T) {
				cfg := Config{Card: card.control}
				r := RunCheck(Check{ID: "X04", run: body}, &cfg, NewRun())
				tr := strings.Join(r.Trace, "\n")
				if len(r.Trace) != 3 {
					t.Fatalf("%s check kept %d trace lines:\n%s", r.Status, len(r.Trace), tr)
				}
				if shown := strings.Contains(tr, hexs([]byte(name))); shown != card.shown {
					t.Errorf("personal data shown %v, want %v:\n%s", shown, card.shown, tr)
				}
			})
		}
	}
}
