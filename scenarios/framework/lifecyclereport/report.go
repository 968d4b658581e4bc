// Package lifecyclereport draws the lives of My Number Cards as one HTML
// page: each card's certificates as bars over (virtual) time, with the
// events of its life — issuance, lockouts, office re-sets, revocations with
// their reasons, renewals, expiry — marked on the same axis
// (docs/lifecycle-rules.md). The scenario suites write it beside their JUnit
// and JSON reports.
//
// Personal data (name, address, birth date, My Number) is never on the
// page unless Page.Personal is set: FromOffice redacts it from the office's
// history.
package lifecyclereport

import (
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// EventKind classifies an event; the page colours and filters by it.
type EventKind string

const (
	Issuance   EventKind = "issuance"
	Lockout    EventKind = "lockout"
	Reset      EventKind = "reset"
	Revocation EventKind = "revocation"
	Renewal    EventKind = "renewal"
	Expiry     EventKind = "expiry"
	Other      EventKind = "other"
)

// Event is one dated happening in a card's life.
type Event struct {
	At   time.Time
	Kind EventKind
	Text string
}

// Certificate is one certificate's life: valid from NotBefore to NotAfter,
// unless revoked earlier.
type Certificate struct {
	Label     string // "auth #12", "sign #13", "smartphone sign #20"
	NotBefore time.Time
	NotAfter  time.Time
	RevokedAt time.Time // zero when never revoked
	Reason    string
}

// Card is one card's story.
type Card struct {
	ID           string
	Holder       string // shown only with Page.Personal
	Certificates []Certificate
	Events       []Event
}

// Timeline is one world (one office, one clock) from Start to End.
type Timeline struct {
	Name       string
	Start, End time.Time
	Cards      []Card
}

// Page is the whole report.
type Page struct {
	Title     string
	Timelines []Timeline
	// Personal shows the holders' names; off by default.
	Personal bool
}

// WriteFile renders p into path, creating its directory.
func WriteFile(path string, p Page) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("writing lifecycle report: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing lifecycle report: %w", err)
	}
	if err := Render(f, p); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// geometry of the SVG drawing.
const (
	labelW = 190
	plotW  = 900
	rowH   = 22
)

type bar struct {
	Label, Title string
	X, W, Y      int
	RevokedX     int // 0: not revoked
	RevokedW     int
	Class        string
}

type mark struct {
	X, Y  int
	Kind  EventKind
	Title string
}

type row struct {
	Y    int
	Kind EventKind
}

type tick struct {
	X     int
	Label string
}

type cardView struct {
	ID, Holder string
	Height     int
	Bars       []bar
	Marks      []mark
	Rows       []row
	Ticks      []tick
	Events     []Event
}

type timelineView struct {
	Name  string
	Range string
	Cards []cardView
}

// Render writes the page as self-contained HTML (inline SVG and CSS, no
// scripts, no network).
func Render(w io.Writer, p Page) error {
	view := struct {
		Title     string
		Timelines []timelineView
		Kinds     []EventKind
		LabelW    int
		Width     int
	}{Title: p.Title, Kinds: []EventKind{Issuance, Lockout, Reset, Revocation, Renewal, Expiry, Other}, LabelW: labelW, Width: labelW + plotW + 40}
	for _, t := range p.Timelines {
		view.Timelines = append(view.Timelines, viewOf(t, p.Personal))
	}
	if err := page.Execute(w, view); err != nil {
		return fmt.Errorf("rendering lifecycle report: %w", err)
	}
	return nil
}

// viewOf lays a timeline out: one card a block, a bar per certificate, a
// row of marks per kind of event, all on one time axis.
func viewOf(t Timeline, personal bool) timelineView {
	start, end := span(t)
	x := func(at time.Time) int {
		return labelW + int(float64(plotW)*float64(at.Sub(start))/float64(end.Sub(start)))
	}
	var ticks []tick
	for y := start.Year(); y <= end.Year(); y++ {
		at := time.Date(y, 1, 1, 0, 0, 0, 0, start.Location())
		if !at.Before(start) && !at.After(end) {
			ticks = append(ticks, tick{X: x(at), Label: fmt.Sprint(y)})
		}
	}
	tv := timelineView{Name: t.Name, Range: day(start) + " – " + day(end)}
	for _, c := range t.Cards {
		cv := cardView{ID: c.ID, Ticks: ticks}
		if personal {
			cv.Holder = c.Holder
		}
		y := 18
		for _, ce := range c.Certificates {
			cv.Bars = append(cv.Bars, certBar(ce, x, y))
			y += rowH
		}
		events := append([]Event(nil), c.Events...)
		sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
		// One row per kind of event, so that a day's issuance and
		// revocation do not hide each other.
		rows := map[EventKind]int{}
		for _, e := range events {
			if _, ok := rows[e.Kind]; !ok {
				rows[e.Kind] = y + 8
				cv.Rows = append(cv.Rows, row{Y: y + 8, Kind: e.Kind})
				y += rowH
			}
			cv.Marks = append(cv.Marks, mark{X: x(e.At), Y: rows[e.Kind], Kind: e.Kind, Title: day(e.At) + " " + e.Text})
		}
		cv.Events = events
		cv.Height = y + 16
		tv.Cards = append(tv.Cards, cv)
	}
	return tv
}

// span is the time a timeline covers: its own start and end, widened to
// every event and certificate, and a day at least.
func span(t Timeline) (start, end time.Time) {
	start, end = t.Start, t.End
	for _, c := range t.Cards {
		for _, e := range c.Events {
			start, end = minT(start, e.At), maxT(end, e.At)
		}
		for _, ce := range c.Certificates {
			start, end = minT(start, ce.NotBefore), maxT(end, ce.NotAfter)
		}
	}
	if !end.After(start) {
		end = start.Add(24 * time.Hour)
	}
	return start, end
}

// certBar is a certificate's bar at height y, its revoked part marked.
func certBar(ce Certificate, x func(time.Time) int, y int) bar {
	b := bar{Label: ce.Label, X: x(ce.NotBefore), W: max(2, x(ce.NotAfter)-x(ce.NotBefore)), Y: y, Class: "valid",
		Title: fmt.Sprintf("%s: %s – %s", ce.Label, day(ce.NotBefore), day(ce.NotAfter))}
	if !ce.RevokedAt.IsZero() {
		b.RevokedX = x(ce.RevokedAt)
		b.RevokedW = max(0, b.X+b.W-b.RevokedX)
		b.Class = "revoked"
		b.Title += fmt.Sprintf(", revoked %s (%s)", day(ce.RevokedAt), ce.Reason)
	}
	return b
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func minT(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxT(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"day":   day,
	"title": func(k EventKind) string { return strings.ToUpper(string(k)[:1]) + string(k)[1:] },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
h2{margin-top:2em;border-bottom:1px solid #ccc}
svg text{font:11px system-ui,sans-serif}
.valid{fill:#4c9a5e}.revoked{fill:#b9c9bd}.cut{fill:#c0392b}
.issuance{fill:#2e86de}.lockout{fill:#e67e22}.reset{fill:#8e44ad}.revocation{fill:#c0392b}.renewal{fill:#16a085}.expiry{fill:#555}.other{fill:#999}
.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}
table{border-collapse:collapse;margin-top:.5em}td{padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top}
</style></head><body>
<h1>{{.Title}}</h1>
<p class="legend">{{range .Kinds}}<span><svg width="10" height="10"><rect class="{{.}}" width="10" height="10"/></svg> {{title .}}</span>{{end}}
<span><svg width="20" height="10"><rect class="valid" width="20" height="10"/></svg> certificate valid</span>
<span><svg width="20" height="10"><rect class="revoked" width="20" height="10"/></svg> after revocation</span></p>
{{range .Timelines}}{{$tl := .}}
<section class="timeline"><h2>{{.Name}}</h2><p>{{.Range}} (virtual time)</p>
{{range .Cards}}
<div class="card" id="card-{{.ID}}"><h3>Card {{.ID}}{{if .Holder}} — {{.Holder}}{{end}}</h3>
<svg width="{{$.Width}}" height="{{.Height}}" role="img" aria-label="certificates of card {{.ID}} over time">
{{$h := .Height}}{{range .Ticks}}<line x1="{{.X}}" x2="{{.X}}" y1="0" y2="{{$h}}" stroke="#eee"/><text x="{{.X}}" y="10">{{.Label}}</text>{{end}}
{{range .Bars}}<g class="certificate"><title>{{.Title}}</title><text x="4" y="{{.Y}}" dy="12">{{.Label}}</text>
<rect class="valid" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="16"/>{{if .RevokedX}}<rect class="revoked" x="{{.RevokedX}}" y="{{.Y}}" width="{{.RevokedW}}" height="16"/><rect class="cut" x="{{.RevokedX}}" y="{{.Y}}" width="3" height="16"/>{{end}}</g>
{{end}}
{{range .Rows}}<text x="4" y="{{.Y}}" dy="4">{{.Kind}}</text>{{end}}
{{range .Marks}}<g class="event {{.Kind}}"><title>{{.Title}}</title><circle class="{{.Kind}}" cx="{{.X}}" cy="{{.Y}}" r="5"/></g>{{end}}
</svg>
<table class="events">{{range .Events}}<tr class="{{.Kind}}"><td>{{day .At}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>{{end}}</table>
</div>
{{end}}</section>
{{end}}
</body></html>
`))
