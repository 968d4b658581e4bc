package conformance

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mynahil/mynahil/docs"
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
		want := string(speclabel.Optional)
		if c.Mandatory {
			want = string(speclabel.Mandatory)
		}
		if l[0] != c.ID || l[1] != want {
			t.Errorf("%s labels %v", c.ID, l)
		}
		if c.HasLabel(speclabel.Interactive) && c.Mandatory {
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
	res := sampleResults(t)
	res[1].Message = "READ BINARY Le=00: got 6700\nsecond line of the failure"
	res[1].Trace = []string{"> 00 20 00 80 04 2A 2A 2A 2A"}
	paths, err := WriteReports(dir, Summary{Env: env, Results: res, Start: time.Now(), Baseline: Baseline{Exchanges: 20, Median: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not conformant", "Virtual PCD 00 00", "3B E0 00 FF 81 31 FE 45 14", "mandatory", "optional",
		"READ BINARY Le=00: got 6700", "1.9.9", "Needs attention", `href="` + ChecklistFile + `"`, "APDU trace (PINs masked)", "second line of the failure"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	// The checklist the verdict cites travels with the report.
	copyOf, err := os.ReadFile(filepath.Join(dir, ChecklistFile))
	if err != nil || !bytes.Equal(copyOf, docs.ConformanceChecklist) || !bytes.Contains(copyOf, []byte("R14")) {
		t.Errorf("%s beside the report: %v, %d bytes, want docs/conformance-checklist.md", ChecklistFile, err, len(copyOf))
	}
	// The summary at the top names the failed check with its first line only.
	top, _, _ := strings.Cut(string(html), "<h2>Checks</h2>")
	if !strings.Contains(top, `<a href="#R07">R07</a>`) || strings.Contains(top, "second line") {
		t.Errorf("the summary at the top should list R07 with the first line of its failure")
	}
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`failures="1"`, "R07: Le=00", "R05: ATR"} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("junit.xml lacks %q", want)
		}
	}
	var js JSONReport
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if js.Verdict != VerdictNotConformant || js.ExitCode != ExitNotConformant || js.Checklist.Version != ChecklistVersion || len(js.Checks) != 3 || js.Checks[1].Status != Failed {
		t.Errorf("report.json: verdict %q exit %d checklist %q, %d checks", js.Verdict, js.ExitCode, js.Checklist.Version, len(js.Checks))
	}
	if len(paths) != 5 {
		t.Errorf("wrote %v, want report.html, report.json, %s, junit.xml, ginkgo-report.json", paths, ChecklistFile)
	}
	if _, err := os.Stat(filepath.Join(dir, "ginkgo-report.json")); err != nil {
		t.Errorf("ginkgo-report.json: %v", err)
	}
}

// TestNotRunReport: a run that could not start reports "not run" and why,
// with exit code 3, and no JUnit verdict.
func TestNotRunReport(t *testing.T) {
	dir := t.TempDir()
	nr := &NotRunError{What: `reader "Nope" is not listed`, Do: "pass it with --reader"}
	if _, err := WriteReports(dir, Summary{Env: Environment{Reader: "Nope"}, Start: time.Now(), NotRun: nr}); err != nil {
		t.Fatal(err)
	}
	var js JSONReport
	b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	if js.Verdict != VerdictNotRun || js.ExitCode != ExitNotRun || !strings.Contains(js.NotRun, "is not listed") {
		t.Errorf("report.json of a run that did not start: %+v", js)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "did not start") || strings.Contains(string(html), ">not conformant<") {
		t.Errorf("report.html of a run that did not start must say so and give no verdict")
	}
	if _, err := os.Stat(filepath.Join(dir, "junit.xml")); err == nil {
		t.Errorf("junit.xml written for a run that did not start")
	}
}

// TestIncompleteParts: a check whose PIN part did not run is incomplete,
// and so is the verdict, never conformant (issue: no PINs gave CONFORMANT).
func TestIncompleteParts(t *testing.T) {
	var all []Result
	for _, c := range Checks() {
		st := Passed
		if !c.Mandatory {
			st = Skipped
		}
		all = append(all, Result{Check: c, Status: st})
	}
	c := Check{ID: "R07", Mandatory: true, run: func(t *T) {
		t.SkipPart("signature Le=00", "the auth PIN (MYNAHIL_AUTH_PIN)", "no auth PIN given")
	}}
	r := RunCheck(c, &Config{}, NewRun())
	if r.Status != Incomplete || !strings.Contains(r.Message, "needs the auth PIN") {
		t.Fatalf("a check with a skipped part: %s %q", r.Status, r.Message)
	}
	for i := range all {
		if all[i].Check.ID == "R07" {
			all[i] = r
		}
	}
	if got := Verdict(all); got != VerdictIncomplete {
		t.Errorf("verdict with an incomplete mandatory check: %q, want incomplete", got)
	}
	if ExitCode(Verdict(all)) != ExitIncomplete {
		t.Errorf("exit code of an incomplete run: %d", ExitCode(Verdict(all)))
	}
}

// TestUnknownIDs: --only with an ID that names no check is a usage error.
func TestUnknownIDs(t *testing.T) {
	if got := UnknownIDs([]string{"R05", " r06", "R99"}); len(got) != 1 || got[0] != "R99" {
		t.Errorf("UnknownIDs: %q, want [R99]", got)
	}
	if _, _, err := Run(Config{Only: []string{"R05", "R99"}}); err == nil || !strings.Contains(err.Error(), "R99") || IsNotRun(err) {
		t.Errorf("Run with an unknown ID: %v, want a usage error naming R99", err)
	}
}

// TestMaskPIN: VERIFY data never reach a trace.
func TestMaskPIN(t *testing.T) {
	got := hexs(MaskPIN([]byte{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'}))
	if got != "00 20 00 80 04 2A 2A 2A 2A" {
		t.Errorf("masked VERIFY: %s", got)
	}
	if got := hexs(MaskPIN([]byte{0x00, 0x20, 0x00, 0x80})); got != "00 20 00 80" {
		t.Errorf("tries-left query: %s", got)
	}
}

// TestDocumentedJSON: the report.json example in docs/conformance.md has
// exactly the fields JSONReport writes.
func TestDocumentedJSON(t *testing.T) {
	doc, err := os.ReadFile("../docs/conformance.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "### report.json\n\n```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/conformance.md has no report.json example")
	}
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	var r JSONReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the documented example does not match JSONReport: %v", err)
	}
	if r.Verdict != VerdictIncomplete || r.ExitCode != ExitCode(r.Verdict) || r.Checklist.Version != ChecklistVersion {
		t.Errorf("documented example: verdict %q, exit %d, checklist %q", r.Verdict, r.ExitCode, r.Checklist.Version)
	}
	for _, f := range []string{"format", "verdict", "exit_code", "not_run_reason", "checklist", "mynahil", "reader", "baseline", "counts", "skipped_parts", "measurements", "trace"} {
		if !strings.Contains(string(doc), "`"+f+"`") && !strings.Contains(string(doc), "`checks[]."+f+"`") {
			t.Errorf("docs/conformance.md does not describe field %s", f)
		}
	}
}
