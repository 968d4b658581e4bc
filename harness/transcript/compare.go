package transcript

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// Difference is one way a replayed step differs from the recorded one.
type Difference struct {
	Step     int    `json:"step"` // 1-based
	Name     string `json:"name"`
	Command  string `json:"command"`
	Field    string `json:"field"` // "status word", "length", "structure", "declared length", "value", "missing"
	Recorded string `json:"recorded"`
	Replayed string `json:"replayed"`
}

// Compare reports every difference between a recorded transcript and its
// replay: the status word always; then, as the recorded step's check says,
// the value (CheckValue), the length and the structure (CheckLength), the
// structure with lengths within SizeTolerance percent (CheckSize), or the
// length alone (CheckOpaque).
// Values of personal data are never compared: they are not in a transcript.
func Compare(recorded, replayed *Transcript) []Difference {
	var out []Difference
	for i, r := range recorded.Steps {
		diff := func(field, a, b string) {
			out = append(out, Difference{Step: i + 1, Name: r.Name, Command: abbreviate(r.Command), Field: field, Recorded: a, Replayed: b})
		}
		if i >= len(replayed.Steps) {
			diff("missing", "answered", "not replayed")
			continue
		}
		p := replayed.Steps[i]
		if p.Command != r.Command {
			diff("command", abbreviate(r.Command), abbreviate(p.Command))
			continue
		}
		if r.SW != p.SW {
			diff("status word", r.SW, p.SW)
			continue
		}
		switch r.Check {
		case CheckOpaque:
			if r.Len != p.Len {
				diff("length", fmt.Sprint(r.Len), fmt.Sprint(p.Len))
			}
		case CheckValue:
			if r.Value != p.Value {
				diff("value", showValue(r.Value), showValue(p.Value))
			}
		case CheckLength:
			if r.Len != p.Len {
				diff("length", fmt.Sprint(r.Len), fmt.Sprint(p.Len))
			}
			if r.Shape != p.Shape {
				diff("structure", dash(r.Shape), dash(p.Shape))
			}
		case CheckSize:
			if r.Shape != p.Shape {
				diff("structure", dash(r.Shape), dash(p.Shape))
			}
			if !near(r.Len, p.Len) {
				diff("length", fmt.Sprint(r.Len), fmt.Sprint(p.Len))
			}
			if !near(r.ObjLen, p.ObjLen) {
				diff("declared length", fmt.Sprint(r.ObjLen), fmt.Sprint(p.ObjLen))
			}
		}
	}
	for i := len(recorded.Steps); i < len(replayed.Steps); i++ {
		p := replayed.Steps[i]
		out = append(out, Difference{Step: i + 1, Name: p.Name, Command: abbreviate(p.Command), Field: "missing", Recorded: "not recorded", Replayed: "answered"})
	}
	return out
}

// near reports whether b is within SizeTolerance percent of a.
func near(a, b int) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d*100 <= a*SizeTolerance
}

// showValue writes a hex value as quoted text when it is printable ASCII
// (token labels), trailing spaces trimmed, else as hex.
func showValue(h string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
	if err != nil || len(b) == 0 {
		return dash(h)
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return h
		}
	}
	return fmt.Sprintf("%q", strings.TrimRight(string(b), " "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// abbreviate shortens long commands (80 A2 with 256 zero bytes) for reports.
func abbreviate(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) <= 24 {
		return cmd
	}
	return strings.Join(f[:12], " ") + fmt.Sprintf(" … (%d bytes)", len(f))
}

// Report writes the comparison for people: one header, then one block per
// difference with the step, its command, what differs and both answers.
func Report(w io.Writer, recorded, replayed *Transcript, diffs []Difference) error {
	var b strings.Builder
	fmt.Fprintf(&b, "recorded: %s (%s)\n", dash(recorded.Card), recorded.RecordedAt.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "replayed: %s\n", dash(replayed.Card))
	if len(diffs) == 0 {
		fmt.Fprintf(&b, "%d steps, no differences\n", len(recorded.Steps))
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%d steps, %d differences:\n", len(recorded.Steps), len(diffs))
	for _, d := range diffs {
		fmt.Fprintf(&b, "\n  step %d  %s\n    command   %s\n    %-9s recorded %s, replayed %s\n", d.Step, d.Name, d.Command, d.Field, d.Recorded, d.Replayed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
