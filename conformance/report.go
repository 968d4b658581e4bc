package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/docs"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/speclabel"
)

// Environment is what the report says about the setup under test.
type Environment struct {
	Reader    string `json:"name"`
	ATR       string `json:"atr"`
	Interface string `json:"interface"`
	OS        string `json:"os"`
	PCSCLite  string `json:"pcsc_lite"`
	Card      string `json:"card"`
	Fault     string `json:"fault,omitempty"` // the broken-reader profile, for simulator runs
}

// Fill completes the environment from the system and the reader (its ATR,
// read through a short-lived PC/SC session).
func (e *Environment) Fill(cfg Config) {
	e.Reader = cfg.Reader
	e.OS = osDescription()
	e.PCSCLite = pcscLiteVersions()
	if e.Card == "" {
		e.Card = "the card in the reader (identified by SELECT of the JPKI AID)"
	}
	to := cfg.APDUTimeout
	if to <= 0 {
		to = 5 * time.Second
	}
	s, err := openSession(cfg.Reader, to)
	if err != nil {
		e.ATR = "unknown (" + err.Error() + ")"
		return
	}
	defer func() { _ = s.close() }()
	rs := []pcsc.ReaderState{{Reader: cfg.Reader, CurrentState: pcsc.StateUnaware}}
	if err := s.ctx.GetStatusChange(rs, 0); err != nil || len(rs[0].ATR) == 0 {
		e.ATR = "none reported"
		return
	}
	e.ATR = hexs(rs[0].ATR)
	if a, err := ParseATR(rs[0].ATR); err == nil {
		e.Interface = interfaceOf(a)
	}
	if strings.HasPrefix(cfg.Reader, "Virtual PCD") {
		e.Interface = "virtual (vsmartcard vpcd), " + e.Interface
	}
}

func osDescription() string {
	d := runtime.GOOS + "/" + runtime.GOARCH
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				d = strings.Trim(v, `"`) + ", " + d
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		d += ", kernel " + strings.TrimSpace(string(b))
	}
	return d
}

// pcscLiteVersions reports libpcsclite's version and pcscd's.
func pcscLiteVersions() string {
	v := "libpcsclite " + pcscVersion()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pcscd", "--version").CombinedOutput()
	if err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		v += "; " + strings.TrimSpace(first)
	}
	return v
}

// OnlyReader returns the single PC/SC reader there is.
func OnlyReader() (string, error) {
	ctx, err := within(5*time.Second, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return "", err
	}
	defer func() { _ = ctx.Close() }()
	readers, err := within(5*time.Second, "listing readers", ctx.ReaderNames)
	switch {
	case err != nil:
		return "", err
	case len(readers) == 0:
		return "", fmt.Errorf("listing readers: %w", pcsc.ErrNoReaders)
	case len(readers) != 1:
		return "", fmt.Errorf("%d readers: %s", len(readers), strings.Join(readers, "; "))
	}
	return readers[0], nil
}

// SpecText is the Ginkgo spec text of a check: "R05: ATR read and parsed …".
func SpecText(c Check) string { return c.ID + ": " + c.Title }

// SpecLabels are the Ginkgo labels of a check: its ID, mandatory or
// optional, and its own labels.
func SpecLabels(c Check) []string {
	kind := speclabel.Optional
	if c.Mandatory {
		kind = speclabel.Mandatory
	}
	return append([]string{c.ID}, speclabel.Of(append([]speclabel.Label{kind}, c.Labels...)...)...)
}

// GinkgoReport turns results into a Ginkgo report, so that Ginkgo's own
// reporters write the JUnit XML and JSON of a command-line run exactly as
// for a "go tool ginkgo" run.
func GinkgoReport(env Environment, results []Result, start time.Time) types.Report {
	r := types.Report{
		SuitePath:        "github.com/mynahil/mynahil/conformance",
		SuiteDescription: "Reader conformance: " + env.Reader,
		SuiteSucceeded:   Conformant(results),
		StartTime:        start,
		EndTime:          time.Now(),
	}
	r.RunTime = r.EndTime.Sub(start)
	r.PreRunStats.TotalSpecs = len(results)
	r.PreRunStats.SpecsThatWillRun = len(results)
	for _, res := range results {
		sr := types.SpecReport{
			ContainerHierarchyTexts: []string{"Reader conformance"},
			LeafNodeType:            types.NodeTypeIt,
			LeafNodeText:            SpecText(res.Check),
			LeafNodeLabels:          SpecLabels(res.Check),
			StartTime:               res.Start,
			EndTime:                 res.Start.Add(res.Duration),
			RunTime:                 res.Duration,
			State:                   types.SpecStatePassed,
		}
		switch res.Status {
		case Failed:
			sr.State = types.SpecStateFailed
			sr.Failure = types.Failure{Message: res.Message, FailureNodeType: types.NodeTypeIt}
		case Skipped:
			sr.State = types.SpecStateSkipped
			sr.Failure = types.Failure{Message: res.Message, FailureNodeType: types.NodeTypeIt}
		case Incomplete, Interrupted:
			// Not a failure of the reader; the suite did not succeed either.
			sr.State = types.SpecStateSkipped
			sr.Failure = types.Failure{Message: string(res.Status) + ": " + res.Message, FailureNodeType: types.NodeTypeIt}
		}
		for _, e := range res.Entries {
			sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{
				Name: e.Name, Value: types.WrapEntryValue(e.Value), Time: sr.EndTime,
			})
		}
		r.SpecReports = append(r.SpecReports, sr)
	}
	return r
}

// ResultsFromGinkgo recovers check results from a Ginkgo report (the
// Ginkgo route's ReportAfterSuite), matching specs to checks by their ID label.
func ResultsFromGinkgo(report types.Report) []Result {
	byID := map[string]Check{}
	for _, c := range Checks() {
		byID[c.ID] = c
	}
	var out []Result
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		id, _, _ := strings.Cut(sr.LeafNodeText, ":")
		c, ok := byID[id]
		if !ok {
			continue
		}
		res := Result{Check: c, Start: sr.StartTime, Duration: sr.RunTime, Status: Passed}
		switch {
		case strings.HasPrefix(sr.Failure.Message, string(Interrupted)+": "):
			res.Status, res.Message = Interrupted, strings.TrimPrefix(sr.Failure.Message, string(Interrupted)+": ")
			res.Fault = &EnvFault{Cause: "environment fault", What: res.Message}
		case sr.State.Is(types.SpecStateFailureStates):
			res.Status, res.Message = Failed, sr.Failure.Message
		case sr.State.Is(types.SpecStateSkipped|types.SpecStatePending) && strings.HasPrefix(sr.Failure.Message, string(Incomplete)+": "):
			res.Status, res.Message = Incomplete, strings.TrimPrefix(sr.Failure.Message, string(Incomplete)+": ")
		case sr.State.Is(types.SpecStateSkipped | types.SpecStatePending):
			res.Status, res.Message = Skipped, sr.Failure.Message
		}
		for _, e := range sr.ReportEntries {
			res.Entries = append(res.Entries, Entry{Name: e.Name, Value: e.StringRepresentation()})
		}
		out = append(out, res)
	}
	return out
}

// ChecklistVersion is the version of docs/conformance-checklist.md, the
// checklist verdicts are judged against; the report names it.
const ChecklistVersion = "2"

// ChecklistFile is the copy of docs/conformance-checklist.md that
// WriteReports puts beside report.html, so the report links the text it
// was judged against wherever it is handed on.
const ChecklistFile = "conformance-checklist.md"

// checklist names the checklist in the reports.
var checklist = JSONChecklist{Version: ChecklistVersion, File: ChecklistFile, Source: "docs/conformance-checklist.md"}

// Summary is one run as the reports describe it.
type Summary struct {
	Env      Environment
	Results  []Result
	Start    time.Time
	Baseline Baseline
	// NotRun is set when the run could not start: no verdict applies.
	NotRun error
}

// Verdict is the run's verdict, "not run" when it could not start.
func (s Summary) Verdict() string {
	if s.NotRun != nil {
		return VerdictNotRun
	}
	return Verdict(s.Results)
}

// MissingMandatory returns the mandatory checks that have no result (left
// out with Only): the run is at best incomplete.
func MissingMandatory(results []Result) []Check {
	ran := map[string]bool{}
	for _, r := range results {
		ran[r.Check.ID] = true
	}
	var out []Check
	for _, c := range Checks() {
		if c.Mandatory && !ran[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// Exit codes of "mynahil conformance" (docs/conformance.md).
const (
	ExitConformant    = 0
	ExitNotConformant = 1
	ExitUsage         = 2
	ExitNotRun        = 3
	ExitIncomplete    = 4
)

// ExitCode maps a verdict to the command's exit code.
func ExitCode(verdict string) int {
	switch verdict {
	case VerdictConformant:
		return ExitConformant
	case VerdictNotConformant:
		return ExitNotConformant
	case VerdictIncomplete:
		return ExitIncomplete
	}
	return ExitNotRun
}

// JSONReport is report.json, documented in docs/conformance.md.
type JSONReport struct {
	Format    string        `json:"format"` // "mynahil-conformance/1"
	Verdict   string        `json:"verdict"`
	ExitCode  int           `json:"exit_code"`
	NotRun    string        `json:"not_run_reason,omitempty"`
	Checklist JSONChecklist `json:"checklist"`
	Mynahil   JSONVersion   `json:"mynahil"`
	Reader    Environment   `json:"reader"`
	Baseline  Baseline      `json:"baseline"`
	Started   time.Time     `json:"started"`
	Duration  float64       `json:"duration_ms"`
	Counts    JSONCounts    `json:"counts"`
	// Fault is the environment fault that stopped the run, if one did.
	Fault  *JSONFault  `json:"environment_fault,omitempty"`
	Checks []JSONCheck `json:"checks"`
}

// JSONFault is the environment fault that stopped a run: the check that
// met it, its cause, what was seen and what to do.
type JSONFault struct {
	Check string `json:"check"`
	Cause string `json:"cause"`
	What  string `json:"what"`
	Do    string `json:"do"`
}

// JSONChecklist names the checklist the verdict is judged against.
type JSONChecklist struct {
	Version string `json:"version"`
	File    string `json:"file"`   // the copy beside the report
	Source  string `json:"source"` // where it lives in the repository
}

// JSONVersion is the mynahil build that ran.
type JSONVersion struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// JSONCounts counts the checks by status.
type JSONCounts struct {
	Passed          int `json:"passed"`
	Failed          int `json:"failed"`
	Incomplete      int `json:"incomplete"`
	Interrupted     int `json:"interrupted"`
	Skipped         int `json:"skipped"`
	MandatoryPassed int `json:"mandatory_passed"`
	Mandatory       int `json:"mandatory"`
}

// JSONCheck is one check in report.json.
type JSONCheck struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Mandatory    bool     `json:"mandatory"`
	Status       Status   `json:"status"`
	Message      string   `json:"message,omitempty"`
	Duration     float64  `json:"duration_ms"`
	SkippedParts []Part   `json:"skipped_parts,omitempty"`
	Measurements []Entry  `json:"measurements,omitempty"`
	Trace        []string `json:"trace,omitempty"`
	// BeforeFault: the check finished before the environment fault that
	// stopped the run; its result stands.
	BeforeFault bool `json:"finished_before_fault,omitempty"`
}

// commit is the VCS commit, set by the Makefile's build (-ldflags -X) for
// builds without Go's VCS stamping.
var commit = "unknown"

// BuildVersion is the version and VCS commit of the running binary.
func BuildVersion() JSONVersion {
	v := JSONVersion{Version: "(devel)", Commit: commit}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v.Commit = s.Value
		}
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// JSON returns the run as report.json describes it.
func (s Summary) JSON() JSONReport {
	r := JSONReport{
		Format: "mynahil-conformance/1", Verdict: s.Verdict(), Checklist: checklist,
		Mynahil: BuildVersion(), Reader: s.Env, Baseline: s.Baseline, Started: s.Start, Duration: ms(time.Since(s.Start)),
		Checks: []JSONCheck{},
	}
	r.ExitCode = ExitCode(r.Verdict)
	if s.NotRun != nil {
		r.NotRun = s.NotRun.Error()
	}
	if f, id := Fault(s.Results); f != nil {
		r.Fault = &JSONFault{Check: id, Cause: f.Cause, What: f.What, Do: f.Do}
		if r.Verdict == VerdictNotRun {
			r.NotRun = f.Error()
		}
	}
	r.Counts = counts(s.Results)
	for _, res := range s.Results {
		r.Checks = append(r.Checks, JSONCheck{ID: res.Check.ID, Title: res.Check.Title, Mandatory: res.Check.Mandatory, Status: res.Status,
			Message: res.Message, Duration: ms(res.Duration), SkippedParts: res.Skipped, Measurements: res.Entries, Trace: res.Trace,
			BeforeFault: res.BeforeFault})
	}
	return r
}

func counts(results []Result) JSONCounts {
	var c JSONCounts
	for _, r := range results {
		if r.Check.Mandatory {
			c.Mandatory++
			if r.Status == Passed {
				c.MandatoryPassed++
			}
		}
		switch r.Status {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Incomplete:
			c.Incomplete++
		case Interrupted:
			c.Interrupted++
		default:
			c.Skipped++
		}
	}
	return c
}

// WriteReports writes report.html, junit.xml, report.json (JSONReport)
// and ginkgo-report.json (Ginkgo's own JSON) into dir and returns their
// paths. A run that could not start gets report.html and report.json
// only, saying "not run" and why.
func WriteReports(dir string, s Summary) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating report directory: %w", err)
	}
	paths := []string{filepath.Join(dir, "report.html"), filepath.Join(dir, "report.json")}
	js, err := json.MarshalIndent(s.JSON(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding report.json: %w", err)
	}
	paths = append(paths, filepath.Join(dir, ChecklistFile))
	errs := []error{WriteHTML(paths[0], s), os.WriteFile(paths[1], append(js, '\n'), 0o644),
		os.WriteFile(paths[2], docs.ConformanceChecklist, 0o644)}
	if s.NotRun == nil {
		gr := GinkgoReport(s.Env, s.Results, s.Start)
		junit, ginkgo := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "ginkgo-report.json")
		paths = append(paths, junit, ginkgo)
		errs = append(errs, reporters.GenerateJUnitReport(gr, junit), reporters.GenerateJSONReport(gr, ginkgo))
	}
	return paths, errors.Join(errs...)
}

type htmlCheck struct {
	ID, Title, Kind, Status, Message, Duration, Procedure string
	BeforeFault                                           bool
	Entries                                               []Entry
	Skipped                                               []Part
	Trace                                                 string
}

// WriteHTML writes the one-page report.
func WriteHTML(path string, s Summary) error {
	data := struct {
		Env                Environment
		Verdict, Generated string
		NotRun             string
		Fault              *JSONFault
		Checks, Attention  []htmlCheck
		Counts             JSONCounts
		Checklist          JSONChecklist
		Version            JSONVersion
		Baseline           string
	}{Env: s.Env, Verdict: s.Verdict(), Generated: time.Now().UTC().Format(time.RFC3339), Counts: counts(s.Results),
		Checklist: checklist, Version: BuildVersion()}
	if s.NotRun != nil {
		data.NotRun = s.NotRun.Error()
	}
	if f, id := Fault(s.Results); f != nil {
		data.Fault = &JSONFault{Check: id, Cause: f.Cause, What: f.What, Do: f.Do}
	}
	if s.Baseline.Exchanges > 0 {
		data.Baseline = fmt.Sprintf("SELECT round trip median %v, max %v over %d exchanges", s.Baseline.Median.Round(time.Microsecond), s.Baseline.Max.Round(time.Microsecond), s.Baseline.Exchanges)
	}
	for _, r := range s.Results {
		kind := "optional"
		if r.Check.Mandatory {
			kind = "mandatory"
		}
		c := htmlCheck{ID: r.Check.ID, Title: r.Check.Title, Kind: kind, Status: string(r.Status), Message: r.Message,
			Duration: r.Duration.Round(time.Millisecond).String(), Procedure: r.Check.Procedure, Entries: r.Entries,
			Skipped: r.Skipped, Trace: strings.Join(r.Trace, "\n"), BeforeFault: r.BeforeFault}
		data.Checks = append(data.Checks, c)
		if r.Status == Failed || r.Status == Interrupted || (r.Status == Incomplete && r.Check.Mandatory) || (r.Status == Skipped && r.Check.Mandatory) {
			c.Message, _, _ = strings.Cut(c.Message, "\n")
			data.Attention = append(data.Attention, c)
		}
	}
	if s.NotRun == nil && data.Fault == nil {
		for _, c := range MissingMandatory(s.Results) {
			data.Attention = append(data.Attention, htmlCheck{ID: c.ID, Title: c.Title, Status: "not run", Message: "left out of this run (--only)"})
		}
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, data); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Reader conformance: {{.Env.Reader}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
.passed{color:#070}.failed{color:#b00;font-weight:bold}.skipped{color:#777}.incomplete,.interrupted{color:#a60;font-weight:bold}
.verdict{font-size:1.6em;padding:.3em .6em;display:inline-block;border-radius:4px}
.v-conformant{background:#dfd}.v-not{background:#fdd}.v-incomplete,.v-notrun{background:#ffd}
section.check{border-top:1px solid #ccc;padding:.5em 0}
pre{white-space:pre-wrap;margin:.3em 0;background:#f7f7f7;padding:.4em}small{color:#555}
</style></head><body>
<h1>My Number Card (JPKI) reader conformance</h1>
<p class="verdict {{if eq .Verdict "conformant"}}v-conformant{{else if eq .Verdict "incomplete"}}v-incomplete{{else if eq .Verdict "not run"}}v-notrun{{else}}v-not{{end}}">{{.Verdict}}</p>
{{if .Fault}}<p><b>An environment fault stopped the run at {{.Fault.Check}}, so there is no verdict on the reader ({{.Fault.Cause}}):</b> {{.Fault.What}}. <b>What to do:</b> {{.Fault.Do}}. The checks finished before the fault keep their results below.</p>{{end}}
{{if .NotRun}}<p><b>The run did not start, so there is no verdict on the reader:</b> {{.NotRun}}</p>{{else}}
<p>{{.Counts.MandatoryPassed}} of {{.Counts.Mandatory}} mandatory checks passed; {{.Counts.Passed}} passed, {{.Counts.Failed}} failed, {{.Counts.Incomplete}} incomplete, {{.Counts.Skipped}} skipped in all.
"Conformant" means every part of every mandatory check ran and passed; optional checks are reported but do not decide the verdict.
Judged against the <a href="{{.Checklist.File}}">reader conformance checklist</a>, version {{.Checklist.Version}}.</p>
{{if .Attention}}<h2>Needs attention</h2><ul>
{{range .Attention}}<li><a href="#{{.ID}}">{{.ID}}</a> <span class="{{.Status}}">{{.Status}}</span>: {{.Message}}</li>
{{end}}</ul>{{end}}{{end}}
<table>
<tr><th>Reader</th><td>{{.Env.Reader}}</td></tr>
<tr><th>ATR</th><td><code>{{.Env.ATR}}</code></td></tr>
<tr><th>Interface</th><td>{{.Env.Interface}}</td></tr>
<tr><th>Card</th><td>{{.Env.Card}}</td></tr>
{{if .Env.Fault}}<tr><th>Fault profile</th><td>{{.Env.Fault}}</td></tr>{{end}}
<tr><th>OS</th><td>{{.Env.OS}}</td></tr>
<tr><th>pcsc-lite</th><td>{{.Env.PCSCLite}}</td></tr>
{{if .Baseline}}<tr><th>Baseline</th><td>{{.Baseline}}</td></tr>{{end}}
<tr><th>mynahil</th><td>{{.Version.Version}} ({{.Version.Commit}})</td></tr>
<tr><th>Generated</th><td>{{.Generated}}</td></tr>
</table>
{{if .Checks}}<h2>Checks</h2>{{end}}
{{range .Checks}}<section class="check" id="{{.ID}}">
<h3>{{.ID}} {{.Title}} <small>({{.Kind}})</small> — <span class="{{.Status}}">{{.Status}}</span> <small>{{.Duration}}{{if .BeforeFault}}, finished before the fault{{end}}</small></h3>
<p><small>{{.Procedure}}</small></p>
{{if .Message}}<pre>{{.Message}}</pre>{{end}}
{{if .Skipped}}<p>Parts that did not run:</p><ul>{{range .Skipped}}<li>{{.Name}}: needs {{.Needs}} ({{.Why}})</li>{{end}}</ul>{{end}}
{{if .Entries}}<details><summary>Measurements and facts</summary><ul>{{range .Entries}}<li><b>{{.Name}}</b>: {{.Value}}</li>{{end}}</ul></details>{{end}}
{{if .Trace}}<details><summary>APDU trace (PINs masked)</summary><pre>{{.Trace}}</pre></details>{{end}}
</section>{{end}}
<p><small>R21 (mandatory versus optional marking) is the kind shown with each check. Every failure branch and the fault profile proving it: <a href="{{.Checklist.File}}">docs/conformance-checklist.md</a>.</small></p>
</body></html>
`))
