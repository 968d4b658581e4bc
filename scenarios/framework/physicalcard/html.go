package main

import (
	"html/template"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// page is the HTML report of a physical-card run: per suite, each spec's
// state, labels and message (a skip's reason, a failure's message). APDU
// traces and other report entries are left out: they may carry the
// holder's personal data when MYNAHIL_REPORT_PERSONAL=1 asked for it
// (docs/physical-cards.md, "Personal data in reports").
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Physical test card: {{.Reader}}</title>
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.passed{background:#e6f4e6}.failed,.panicked,.interrupted,.aborted,.timedout{background:#fbe3e3}.skipped,.pending{background:#f4f4f4}pre{white-space:pre-wrap;margin:0}</style></head>
<body><h1>Physical test card in {{.Reader}}</h1>
<p><strong>{{.CardState}}</strong></p>
{{range .Suites}}<h2>{{.Name}} — pass {{.Pass}}</h2>
<p>{{.Counts}}</p>
<table><tr><th>state</th><th>spec</th><th>labels</th><th>reason or message</th></tr>
{{range .Specs}}<tr class="{{.State}}"><td>{{.State}}</td><td>{{.Text}}</td><td>{{.Labels}}</td><td><pre>{{.Message}}</pre></td></tr>
{{end}}</table>
{{end}}</body></html>
`))

type pageData struct {
	Reader, CardState string
	Suites            []suiteView
}

type suiteView struct {
	Name, Counts string
	Pass         int
	Specs        []specView
}

type specView struct {
	State, Text, Labels, Message string
}

// writeHTML renders the reports of the passes (jsons, in pass order) into
// path.
func writeHTML(path, reader string, jsons []string) error {
	data := pageData{Reader: reader, CardState: cardStateLine(reader, jsons)}
	for i, j := range jsons {
		rs, err := readReports([]string{j})
		if err != nil {
			return err
		}
		for _, r := range rs {
			data.Suites = append(data.Suites, suiteOf(r, i+1))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := page.Execute(f, data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// suiteOf is one suite's table: its specs that the pass's filter selected.
func suiteOf(r types.Report, pass int) suiteView {
	v := suiteView{Name: r.SuiteDescription, Pass: pass}
	counts := map[string]int{}
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt || s.State == types.SpecStateSkipped && s.Failure.Message == "" {
			continue // a suite node, or a spec the label filter left out
		}
		state := s.State.String()
		counts[state]++
		v.Specs = append(v.Specs, specView{State: state, Text: s.FullText(), Labels: strings.Join(s.Labels(), ", "), Message: s.Failure.Message})
	}
	var parts []string
	for _, st := range []string{"passed", "failed", "skipped", "pending", "panicked", "interrupted", "aborted", "timedout"} {
		if counts[st] > 0 {
			parts = append(parts, strconv.Itoa(counts[st])+" "+st)
		}
	}
	v.Counts = strings.Join(parts, ", ")
	if v.Counts == "" {
		v.Counts = "no spec of this suite ran in this pass"
	}
	return v
}
