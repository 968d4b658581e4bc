package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// CardsPoint is one row of the many-cards benchmark (make bench-cards): N
// cards signing at once, each with a client of its own, through pcscd (N
// PC/SC contexts, N vpcd readers) or in process.
type CardsPoint struct {
	Cards int
	// PCSCD and InProcess: signatures per second over all cards, and the
	// latency of one signature (VERIFY of the auth PIN, then COMPUTE
	// DIGITAL SIGNATURE with the auth key, as a JPKI login sends them).
	PCSCD, InProcess Throughput
	// SimRSS is the resident memory of the 'mynahil sim --cards N' process
	// after the run; SimRSSPerCard is SimRSS divided by N.
	SimRSS, SimRSSPerCard int64
}

// Throughput is one side of a CardsPoint.
type Throughput struct {
	PerSecond float64
	Latency   Stats
}

// WriteCardsTable prints the points as a table.
func WriteCardsTable(w io.Writer, points []CardsPoint) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cards\tpcscd sig/s\tp50\tp99\tin process sig/s\tp50\tp99\tsim RSS\tRSS/card\t")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	for _, p := range points {
		fmt.Fprintf(tw, "%d\t%.1f\t%s\t%s\t%.1f\t%s\t%s\t%.1f MiB\t%.1f MiB\t\n", p.Cards,
			p.PCSCD.PerSecond, ms(p.PCSCD.Latency.Median), ms(p.PCSCD.Latency.P99),
			p.InProcess.PerSecond, ms(p.InProcess.Latency.Median), ms(p.InProcess.Latency.P99),
			float64(p.SimRSS)/(1<<20), float64(p.SimRSSPerCard)/(1<<20))
	}
	return tw.Flush()
}

// WriteCardsSVG draws the points as a hand-written SVG: signatures per
// second (left axis, solid) and p99 latency (right axis, dashed) against
// the number of cards on a log2 axis, through pcscd and in process. The
// drawing reads better whole, in the order it is painted (axes, labels,
// series, legend), than split.
func WriteCardsSVG(w io.Writer, title string, points []CardsPoint) error {
	const width, height, left, right, top, bottom = 720.0, 420.0, 70.0, 80.0, 50.0, 60.0
	pw, ph := width-left-right, height-top-bottom
	if len(points) == 0 {
		return fmt.Errorf("plotting the cards benchmark: no points")
	}
	maxN, maxRate, maxLat := 1.0, 1.0, 1.0
	for _, p := range points {
		maxN = math.Max(maxN, float64(p.Cards))
		maxRate = math.Max(maxRate, math.Max(p.PCSCD.PerSecond, p.InProcess.PerSecond))
		maxLat = math.Max(maxLat, ms(math.Max(float64(p.PCSCD.Latency.P99), float64(p.InProcess.Latency.P99))))
	}
	maxRate, maxLat = niceCeil(maxRate), niceCeil(maxLat)
	x := func(n int) float64 {
		if maxN <= 1 {
			return left
		}
		return left + pw*math.Log2(float64(n))/math.Log2(maxN)
	}
	yRate := func(v float64) float64 { return top + ph*(1-v/maxRate) }
	yLat := func(v float64) float64 { return top + ph*(1-v/maxLat) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" text-anchor="middle">%s</text>`+"\n", width/2, xmlEscape(title))
	fmt.Fprintf(&b, `<path d="M%.1f %.1fV%.1fH%.1fV%.1f" fill="none" stroke="black"/>`+"\n", left, top, top+ph, left+pw, top)
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		y := top + ph*(1-f)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, left+pw, y, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n", left-6, y+4, roundTo(maxRate*f))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%g</text>`+"\n", left+pw+6, y+4, roundTo(maxLat*f))
	}
	for _, p := range points {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", x(p.Cards), top+ph+18, p.Cards)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">cards signing at once (each its own client)</text>`+"\n", left+pw/2, height-18)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">signatures per second</text>`+"\n", top+ph/2)
	fmt.Fprintf(&b, `<text transform="translate(%.1f %.1f) rotate(90)" text-anchor="middle">p99 latency (ms)</text>`+"\n", width-18, top+ph/2)
	series := []struct {
		name, color, dash string
		y                 func(CardsPoint) float64
	}{
		{"through pcscd: signatures/s", "#1f77b4", "", func(p CardsPoint) float64 { return yRate(p.PCSCD.PerSecond) }},
		{"in process: signatures/s", "#d62728", "", func(p CardsPoint) float64 { return yRate(p.InProcess.PerSecond) }},
		{"through pcscd: p99 latency", "#1f77b4", "6 4", func(p CardsPoint) float64 { return yLat(ms(float64(p.PCSCD.Latency.P99))) }},
		{"in process: p99 latency", "#d62728", "6 4", func(p CardsPoint) float64 { return yLat(ms(float64(p.InProcess.Latency.P99))) }},
	}
	for i, s := range series {
		var pts []string
		for _, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Cards), s.y(p)))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", strings.Join(pts, " "), s.color, s.dash)
		for _, p := range points {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`+"\n", x(p.Cards), s.y(p), s.color)
		}
		ly := top + 14 + float64(i)*16
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="%s"/>`+"\n", left+10, left+34, ly-4, ly-4, s.color, s.dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", left+40, ly, s.name)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(d float64) float64 { return d / float64(time.Millisecond) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func roundTo(v float64) float64 { return math.Round(v*100) / 100 }

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
