package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func time1ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func byID(t *testing.T, id string) Check {
	t.Helper()
	for _, c := range Checks() {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return Check{}
}

func sampleResults(t *testing.T) []Result {
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	return []Result{
		{Check: byID(t, "R05"), Status: Passed, Start: start, Duration: 3 * time.Millisecond,
			Entries: []Entry{{Name: "ATR", Value: "3B E0 00 FF 81 31 FE 45 14"}}},
		{Check: byID(t, "R07"), Status: Failed, Message: "READ BINARY Le=00: got 6700", Start: start, Duration: time.Millisecond},
		{Check: byID(t, "R19"), Status: Skipped, Message: "interactive", Start: start},
	}
}

func TestVerdict(t *testing.T) {
	if got := Verdict(sampleResults(t)); got != "not conformant" {
		t.Errorf("with a failed mandatory check: %q", got)
	}
	if got := Verdict(sampleResults(t)[:1]); got != "incomplete" {
		t.Errorf("with mandatory checks not run: %q", got)
	}
	var all []Result
	for _, c := range Checks() {
		st := Passed
		if !c.Mandatory {
			st = Skipped
		}
		all = append(all, Result{Check: c, Status: st})
	}
	if got := Verdict(all); got != "conformant" {
		t.Errorf("all mandatory passed, optional skipped: %q", got)
	}
	all[1].Status = Skipped
	if got := Verdict(all); got != "incomplete" {
		t.Errorf("a mandatory check skipped: %q", got)
	}
	all[3].Status = Failed
	if got := Verdict(all); got != "not conformant" {
		t.Errorf("a mandatory check failed: %q", got)
	}
	if got := Verdict(nil); got != "incomplete" {
		t.Errorf("no results: %q", got)
	}
}

// TestChecksMarked covers R21: every check has an ID in order, a title, a
// procedure, and is marked mandatory or optional in its spec labels.
func TestChecksMarked(t *testing.T) {
	prev := ""
	for _, c := range Checks() {
		if c.ID <= prev || c.Title == "" || c.Procedure == "" || c.run == nil {
			t.Errorf("check %q incomplete or out of order", c.ID)
		}
		prev = c.ID
		l := SpecLabels(c)
		want := labelOptional
		if c.Mandatory {
			want = labelMandatory
		}
		if l[0] != c.ID || l[1] != want {
			t.Errorf("%s labels %v", c.ID, l)
		}
		if c.HasLabel(LabelInteractive) && c.Mandatory {
			t.Errorf("%s needs a person but is mandatory", c.ID)
		}
	}
}

func TestGinkgoRoundTrip(t *testing.T) {
	in := sampleResults(t)
	out := ResultsFromGinkgo(GinkgoReport(Environment{Reader: "r"}, in, time.Now()))
	opts := []cmp.Option{cmpopts.IgnoreFields(Result{}, "Check", "Start"), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(in, out, opts...); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	for i := range in {
		if out[i].Check.ID != in[i].Check.ID {
			t.Errorf("result %d is %s, want %s", i, out[i].Check.ID, in[i].Check.ID)
		}
	}
}

func TestWriteReports(t *testing.T) {
	dir := t.TempDir()
	env := Environment{Reader: "Virtual PCD 00 00", ATR: "3B E0 00 FF 81 31 FE 45 14", OS: "test", PCSCLite: "1.9.9"}
	paths, err := WriteReports(dir, env, sampleResults(t), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not conformant", "Virtual PCD 00 00", "3B E0 00 FF 81 31 FE 45 14", "mandatory", "optional", "READ BINARY Le=00: got 6700", "1.9.9"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	junit, err := os.ReadFile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`failures="1"`, "R07: Le=00", "R05: ATR"} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("junit.xml lacks %q", want)
		}
	}
	if _, err := os.Stat(paths[2]); err != nil {
		t.Errorf("report.json: %v", err)
	}
}
