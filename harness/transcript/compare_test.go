package transcript

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompareEveryField: every field Compare compares (docs/record-compare.md)
// is compared on its own: both bytes of the status word (6A82 against 6A86,
// 63C3 against 63C2, 6A82 against 6B82), the command, the value, the length
// of each kind of step, the structure, the declared length, and the number
// and order of the steps. Each case changes one field of a replay that is
// otherwise equal to the recording and expects exactly that difference.
func TestCompareEveryField(t *testing.T) {
	base := func() *Transcript {
		return &Transcript{Steps: []Step{
			{Name: "select", Command: "00 A4 02 0C 02 2F 10", Check: CheckLength, SW: "6A82"},
			{Name: "tries", Command: "00 20 00 80", Check: CheckLength, SW: "63C3"},
			{Name: "label", Command: "00 B0 00 00 20", Check: CheckValue, SW: "9000", Len: 6, Value: "4A 50 4B 49 41 50"},
			{Name: "info", Command: "00 B0 00 00 00", Check: CheckOpaque, SW: "9000", Len: 22},
			{Name: "fci", Command: "00 A4 04 00 0A", Check: CheckLength, SW: "9000", Len: 13, Shape: "6F{84 A5}"},
			{Name: "cert", Command: "00 B0 00 00 04", Check: CheckSize, SW: "9000", Len: 4, Shape: "30 partial", ObjLen: 1571},
		}}
	}
	for _, tt := range []struct {
		name   string
		change func(*Transcript)
		step   int // 1-based
		field  string
		rec    string
		rep    string
	}{
		{"SW2 of 6A82", func(p *Transcript) { p.Steps[0].SW = "6A86" }, 1, "status word", "6A82", "6A86"},
		{"SW2 of 63C3", func(p *Transcript) { p.Steps[1].SW = "63C2" }, 2, "status word", "63C3", "63C2"},
		{"SW1", func(p *Transcript) { p.Steps[0].SW = "6B82" }, 1, "status word", "6A82", "6B82"},
		{"command", func(p *Transcript) { p.Steps[0].Command = "00 A4 02 0C 02 2F 11" }, 1, "command", "00 A4 02 0C 02 2F 10", "00 A4 02 0C 02 2F 11"},
		{"value", func(p *Transcript) { p.Steps[2].Value = "4A 50 4B 49 41 51" }, 3, "value", `"JPKIAP"`, `"JPKIAQ"`},
		{"opaque length", func(p *Transcript) { p.Steps[3].Len = 21 }, 4, "length", "22", "21"},
		{"length", func(p *Transcript) { p.Steps[4].Len = 14 }, 5, "length", "13", "14"},
		{"structure", func(p *Transcript) { p.Steps[4].Shape = "6F{84}" }, 5, "structure", "6F{84 A5}", "6F{84}"},
		{"size structure", func(p *Transcript) { p.Steps[5].Shape = "7F21 partial" }, 6, "structure", "30 partial", "7F21 partial"},
		{"size length", func(p *Transcript) { p.Steps[5].Len = 2 }, 6, "length", "4", "2"},
		{"declared length", func(p *Transcript) { p.Steps[5].ObjLen = 2000 }, 6, "declared length", "1571", "2000"},
		{"a step fewer", func(p *Transcript) { p.Steps = p.Steps[:5] }, 6, "missing", "answered", "not replayed"},
		{"a step more", func(p *Transcript) { p.Steps = append(p.Steps, p.Steps[0]) }, 7, "missing", "not recorded", "answered"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := Compare(base(), base()); len(d) != 0 {
				t.Fatalf("equal transcripts differ: %+v", d)
			}
			replayed := base()
			tt.change(replayed)
			d := Compare(base(), replayed)
			want := Difference{Step: tt.step, Field: tt.field, Recorded: tt.rec, Replayed: tt.rep}
			if len(d) != 1 || d[0].Step != want.Step || d[0].Field != want.Field || d[0].Recorded != want.Recorded || d[0].Replayed != want.Replayed {
				t.Fatalf("differences %+v, want one like %+v", d, want)
			}
		})
	}
}

// TestCompareOrder: the same steps in another order are differences (the
// commands no longer line up), never a match.
func TestCompareOrder(t *testing.T) {
	rec := &Transcript{Steps: []Step{
		{Name: "a", Command: "00 A4 02 0C 02 00 06", Check: CheckLength, SW: "9000"},
		{Name: "b", Command: "00 A4 02 0C 02 00 08", Check: CheckLength, SW: "9000"},
	}}
	rep := &Transcript{Steps: []Step{rec.Steps[1], rec.Steps[0]}}
	d := Compare(rec, rep)
	if len(d) != 2 || d[0].Field != "command" || d[1].Field != "command" {
		t.Fatalf("swapped steps: %+v", d)
	}
}

// TestReportShowsBothStatusBytes: the report a person reads names the whole
// status word on both sides.
func TestReportShowsBothStatusBytes(t *testing.T) {
	rec := &Transcript{Steps: []Step{{Name: "tries", Command: "00 20 00 80", Check: CheckLength, SW: "63C3"}}}
	rep := &Transcript{Steps: []Step{{Name: "tries", Command: "00 20 00 80", Check: CheckLength, SW: "63C2"}}}
	var b strings.Builder
	if err := Report(&b, rec, rep, Compare(rec, rep)); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("status word recorded %s, replayed %s", "63C3", "63C2"); !strings.Contains(b.String(), want) {
		t.Fatalf("report lacks %q:\n%s", want, b.String())
	}
}
