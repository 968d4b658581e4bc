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
