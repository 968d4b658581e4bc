package bench

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestCardsSVGAndTable: the plot is well-formed XML with the four series
// and a point per count; the table has a row per count.
func TestCardsSVGAndTable(t *testing.T) {
	var points []CardsPoint
	for i, n := range []int{1, 2, 4} {
		d := time.Duration(i+1) * time.Millisecond
		points = append(points, CardsPoint{Cards: n,
			PCSCD:     Throughput{PerSecond: float64(10 * n), Latency: Stats{Median: 3 * d, P99: 5 * d}},
			InProcess: Throughput{PerSecond: float64(100 * n), Latency: Stats{Median: d, P99: 2 * d}}, SimRSSPerCard: 1 << 20})
	}
	var svg bytes.Buffer
	if err := WriteCardsSVG(&svg, "a <title>", points); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	lines, circles := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg.String())
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				lines++
			case "circle":
				circles++
			}
		}
	}
	if lines != 4 || circles != 4*len(points) {
		t.Errorf("%d series and %d points, want 4 and %d", lines, circles, 4*len(points))
	}
	var table bytes.Buffer
	if err := WriteCardsTable(&table, points); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(strings.TrimSpace(table.String()), "\n"); rows != len(points) {
		t.Errorf("table has %d rows, want %d:\n%s", rows, len(points), table.String())
	}
	if err := WriteCardsSVG(&svg, "none", nil); err == nil {
		t.Error("an empty plot was drawn")
	}
}
