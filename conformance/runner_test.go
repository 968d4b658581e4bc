package conformance

import (
	"github.com/mynahil/mynahil/harness/pinbudget"

	"strings"
	"testing"
)

func TestRunCheck(t *testing.T) {
	reached := false
	for _, tc := range []struct {
		name    string
		body    func(*T)
		status  Status
		message string
	}{
		{"pass", func(t *T) { t.Record("size", "%d bytes", 258) }, Passed, ""},
		{"errors go on", func(t *T) { t.Errorf("first"); t.Errorf("second") }, Failed, "first\nsecond"},
		{"fatal stops", func(t *T) { t.Fatalf("stop"); reached = true }, Failed, "stop"},
		{"skip", func(t *T) { t.Skipf("no operator") }, Skipped, "no operator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			r := RunCheck(Check{ID: "X01", run: tc.body}, &cfg, NewRun())
			if r.Status != tc.status || r.Message != tc.message {
				t.Errorf("got %s %q, want %s %q", r.Status, r.Message, tc.status, tc.message)
			}
		})
	}
	if reached {
		t.Error("Fatalf did not end the check")
	}
	r := RunCheck(Check{ID: "X02", run: func(t *T) { t.Ms("latency", 1500000) }}, &Config{}, NewRun())
	if len(r.Entries) != 1 || r.Entries[0].Value != "1.50 ms" {
		t.Errorf("entries %+v", r.Entries)
	}
}

// TestPINNeverRecorded runs the PIN gate without a card: with a PIN given
// but refused earlier, the reason names the PIN kind, never its value.
func TestPINNeverRecorded(t *testing.T) {
	cfg := Config{AuthPIN: "9876"}
	rs := NewRun()
	rs.pins.Note(pinbudget.Auth, 0x63C2) // refused earlier in the run
	r := RunCheck(Check{ID: "X03", run: func(t *T) {
		_, why := t.pinFor(nil, 0)
		t.Record("why", "%s", why)
		t.Record("config", "%+v", *t.cfg)
	}}, &cfg, rs)
	for _, e := range r.Entries {
		if strings.Contains(e.Value, "9876") {
			t.Errorf("entry %q leaks the PIN: %q", e.Name, e.Value)
		}
	}
	if !strings.Contains(r.Entries[0].Value, "auth PIN") {
		t.Errorf("reason %q", r.Entries[0].Value)
	}
}

// TestInteractiveOrder: with an operator, the checks that end with the card
// taken away come last, and every prompt carries its step number.
func TestInteractiveOrder(t *testing.T) {
	var ids []string
	for _, c := range Order(Checks(), true) {
		ids = append(ids, c.ID)
	}
	got := strings.Join(ids, " ")
	if !strings.HasSuffix(got, "R02 R04 R03 R18 R19") || !strings.Contains(got, "R17 R20 R02") {
		t.Errorf("interactive order %s", got)
	}
	var msgs []string
	p := newStepPrompter(promptFunc(func(m string) error { msgs = append(msgs, m); return nil }), 2)
	_ = p.Prompt("a")
	_ = p.Prompt("b")
	_ = p.Prompt("c")
	if want := "[step 1/2] a|[step 2/2] b|[step 3/3] c"; strings.Join(msgs, "|") != want {
		t.Errorf("prompts %q, want %q", msgs, want)
	}
}

type promptFunc func(string) error

func (f promptFunc) Prompt(m string) error { return f(m) }
