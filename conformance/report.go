package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ebfe/scard"
	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"
)

// Environment is what the report says about the setup under test.
type Environment struct {
	Reader    string
	ATR       string
	Interface string
	OS        string
	PCSCLite  string
	Card      string
	Fault     string // the broken-reader profile, for simulator runs
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
	rs := []scard.ReaderState{{Reader: cfg.Reader, CurrentState: scard.StateUnaware}}
	if err := s.ctx.GetStatusChange(rs, 0); err != nil || len(rs[0].Atr) == 0 {
		e.ATR = "none reported"
		return
	}
	e.ATR = hexs(rs[0].Atr)
	if a, err := ParseATR(rs[0].Atr); err == nil {
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
	ctx, err := within(5*time.Second, "establishing PC/SC context", scard.EstablishContext)
	if err != nil {
		return "", err
	}
	defer func() { _ = ctx.Release() }()
	readers, err := within(5*time.Second, "listing readers", ctx.ListReaders)
	if err != nil {
		return "", fmt.Errorf("listing readers: %w", err)
	}
	if len(readers) != 1 {
		return "", fmt.Errorf("%d readers: %s", len(readers), strings.Join(readers, "; "))
	}
	return readers[0], nil
}

// Labels on the Ginkgo specs that carry what the report needs.
const (
	labelMandatory = "mandatory"
	labelOptional  = "optional"
)

// SpecText is the Ginkgo spec text of a check: "R05: ATR read and parsed …".
func SpecText(c Check) string { return c.ID + ": " + c.Title }

// SpecLabels are the Ginkgo labels of a check: its ID, mandatory or
// optional, and its own labels.
func SpecLabels(c Check) []string {
	l := []string{c.ID, labelOptional}
	if c.Mandatory {
		l[1] = labelMandatory
	}
	return append(l, c.Labels...)
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
		case Skipped, Incomplete:
			sr.State = types.SpecStateSkipped
			sr.Failure = types.Failure{Message: res.Message, FailureNodeType: types.NodeTypeIt}
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

// WriteReports writes report.html, junit.xml and report.json into dir and
// returns their paths.
func WriteReports(dir string, env Environment, results []Result, start time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating report directory: %w", err)
	}
	gr := GinkgoReport(env, results, start)
	paths := []string{filepath.Join(dir, "report.html"), filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json")}
	err := errors.Join(
		WriteHTML(paths[0], env, results),
		reporters.GenerateJUnitReport(gr, paths[1]),
		reporters.GenerateJSONReport(gr, paths[2]),
	)
	return paths, err
}

type htmlRow struct {
	ID, Title, Kind, Status, Message, Duration, Procedure string
	Entries                                               []Entry
}

// WriteHTML writes the one-page report.
func WriteHTML(path string, env Environment, results []Result) error {
	data := struct {
		Env                             Environment
		Verdict                         string
		Generated                       string
		Rows                            []htmlRow
		Passed, Failed, Skipped, MandOK int
		Mandatory                       int
	}{Env: env, Verdict: Verdict(results), Generated: time.Now().UTC().Format(time.RFC3339)}
	for _, r := range results {
		kind := "optional"
		if r.Check.Mandatory {
			kind = "mandatory"
			data.Mandatory++
			if r.Status == Passed {
				data.MandOK++
			}
		}
		switch r.Status {
		case Passed:
			data.Passed++
		case Failed:
			data.Failed++
		default:
			data.Skipped++
		}
		data.Rows = append(data.Rows, htmlRow{ID: r.Check.ID, Title: r.Check.Title, Kind: kind, Status: string(r.Status),
			Message: r.Message, Duration: r.Duration.Round(time.Millisecond).String(), Procedure: r.Check.Procedure, Entries: r.Entries})
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
body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
.passed{color:#070}.failed{color:#b00;font-weight:bold}.skipped{color:#777}
.verdict{font-size:1.6em;padding:.3em .6em;display:inline-block;border-radius:4px}
.v-conformant{background:#dfd}.v-not{background:#fdd}.v-incomplete{background:#ffd}
pre{white-space:pre-wrap;margin:0}small{color:#555}
</style></head><body>
<h1>My Number Card (JPKI) reader conformance</h1>
<p class="verdict {{if eq .Verdict "conformant"}}v-conformant{{else if eq .Verdict "incomplete"}}v-incomplete{{else}}v-not{{end}}">{{.Verdict}}</p>
<p>{{.MandOK}} of {{.Mandatory}} mandatory checks passed; {{.Passed}} passed, {{.Failed}} failed, {{.Skipped}} skipped in all.
"Conformant" means every mandatory check passed; optional checks are reported but do not decide the verdict.</p>
<table>
<tr><th>Reader</th><td>{{.Env.Reader}}</td></tr>
<tr><th>ATR</th><td><code>{{.Env.ATR}}</code></td></tr>
<tr><th>Interface</th><td>{{.Env.Interface}}</td></tr>
<tr><th>Card</th><td>{{.Env.Card}}</td></tr>
{{if .Env.Fault}}<tr><th>Fault profile</th><td>{{.Env.Fault}}</td></tr>{{end}}
<tr><th>OS</th><td>{{.Env.OS}}</td></tr>
<tr><th>pcsc-lite</th><td>{{.Env.PCSCLite}}</td></tr>
<tr><th>Generated</th><td>{{.Generated}}</td></tr>
</table>
<h2>Checks</h2>
<table>
<tr><th>ID</th><th>Check</th><th>Kind</th><th>Result</th><th>Measurements and facts</th></tr>
{{range .Rows}}<tr>
<td>{{.ID}}</td>
<td>{{.Title}}<br><small>{{.Procedure}}</small></td>
<td>{{.Kind}}</td>
<td class="{{.Status}}">{{.Status}}<br><small>{{.Duration}}</small>{{if .Message}}<pre>{{.Message}}</pre>{{end}}</td>
<td>{{range .Entries}}<div><b>{{.Name}}</b>: {{.Value}}</div>{{end}}</td>
</tr>{{end}}
</table>
<p><small>Checks R01–R21 from shared/docs/reader-conformance.md §8. R21 (mandatory versus optional marking) is this report's Kind column.</small></p>
</body></html>
`))
