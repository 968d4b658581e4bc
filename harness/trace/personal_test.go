package trace

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The holder of the card in these tests. Their bytes must never appear in a
// physical card's trace, as text or as the trace's hex.
var holderFacts = []string{"山田 太郎", "東京都千代田区永田町1-7-1", "19850401", "S60.4.1"}

// signCertDER stands in for the signing certificate: a DER SEQUENCE of
// 1768 bytes whose subject and SAN carry the four facts.
func signCertDER() []byte {
	body := []byte{0x30, 0x82, 0x06, 0xE4}
	for _, f := range holderFacts {
		body = append(body, 0x0C, byte(len(f)))
		body = append(body, f...)
	}
	return append(body, bytes.Repeat([]byte{0xA5}, 1768-len(body))...)
}

// fourFacts stands in for the text applet's EF 0002 (docs/card.md §3.2).
func fourFacts() []byte {
	b := []byte{0xFF, 0x20, 0x62, 0xDF, 0x21, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
	for i, f := range holderFacts[:3] {
		b = append(b, 0xDF, byte(0x22+i), byte(len(f)))
		b = append(b, f...)
	}
	return append(b, 0xDF, 0x25, 0x01, '1')
}

var (
	selJPKI = []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}
	selText = []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}
	selFace = []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02}
	ok      = []byte{0x90, 0x00}
)

func selEF(fid uint16) []byte { return []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, byte(fid >> 8), byte(fid)} }

func with9000(b []byte) []byte { return append(append([]byte(nil), b...), 0x90, 0x00) }

// readPersonal records a client reading the signing certificate (a 7-byte
// probe, then the rest in chunks), the four facts and the auth certificate.
func readPersonal(rec *Recorder) {
	now := time.Now()
	cert := signCertDER()
	rec.Record(now, 0, selJPKI, ok, nil)
	rec.Record(now, 0, selEF(0x0001), ok, nil)
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x07}, with9000(cert[:7]), nil)
	for off := 0; off < len(cert); off += 256 {
		end := min(off+256, len(cert))
		rec.Record(now, 0, []byte{0x00, 0xB0, byte(off >> 8), byte(off), 0x00}, with9000(cert[off:end]), nil)
	}
	rec.Record(now, 0, selEF(0x000A), ok, nil) // the auth certificate: public
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x04}, []byte{0x30, 0x82, 0x05, 0xDC, 0x90, 0x00}, nil)
	rec.Record(now, 0, selText, ok, nil)
	rec.Record(now, 0, selEF(0x0002), ok, nil)
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, with9000(fourFacts()), nil)
}

// leaks returns the facts whose UTF-8 bytes or hex rendering appear in s.
func leaks(s string) []string {
	var out []string
	for _, f := range holderFacts {
		if strings.Contains(s, f) || strings.Contains(s, fmt.Sprintf("% X", f)) || strings.Contains(s, fmt.Sprintf("%X", f)) {
			out = append(out, f)
		}
	}
	return out
}

func TestPhysicalTraceHidesPersonalData(t *testing.T) {
	t.Setenv(EnvReportPersonal, "")
	rec := NewFor(true)
	readPersonal(rec)
	s := rec.String()
	if l := leaks(s); len(l) > 0 {
		t.Errorf("physical trace shows %q:\n%s", l, s)
	}
	for _, e := range rec.Exchanges() {
		if l := leaks(string(e.Response)); len(l) > 0 {
			t.Errorf("recorded exchange % X keeps %q", e.Response, l)
		}
	}
	for _, want := range []string{
		"<7 bytes of personal data hidden> 90 00",
		"<256 bytes of personal data hidden> 90 00",
		fmt.Sprintf("<%d bytes of personal data hidden> 90 00", 1768-6*256),
		fmt.Sprintf("<%d bytes of personal data hidden> 90 00", len(fourFacts())),
		"30 82 05 DC 90 00", // the auth certificate stays
	} {
		if !strings.Contains(s, want) {
			t.Errorf("physical trace lacks %q:\n%s", want, s)
		}
	}
}

func TestReportPersonalShowsPersonalData(t *testing.T) {
	t.Setenv(EnvReportPersonal, "1")
	rec := NewFor(true)
	readPersonal(rec)
	s := rec.String()
	if l := leaks(s); len(l) != len(holderFacts) {
		t.Errorf("with %s=1 the trace shows only %q:\n%s", EnvReportPersonal, l, s)
	}
	if strings.Contains(s, "hidden") {
		t.Errorf("with %s=1 the trace still hides:\n%s", EnvReportPersonal, s)
	}
}

func TestSimulatedTraceKeepsEverything(t *testing.T) {
	t.Setenv(EnvReportPersonal, "")
	for name, rec := range map[string]*Recorder{"New": New(), "NewFor(false)": NewFor(false)} {
		readPersonal(rec)
		if s := rec.String(); len(leaks(s)) != len(holderFacts) || strings.Contains(s, "hidden") {
			t.Errorf("%s: simulated trace hides data:\n%s", name, s)
		}
	}
}

func TestFollowerClassifiesReads(t *testing.T) {
	type step struct {
		cmd, resp []byte
		want      Content
	}
	read := []byte{0x00, 0xB0, 0x00, 0x00, 0x04}
	data := []byte{1, 2, 3, 4, 0x90, 0x00}
	tests := []struct {
		name  string
		steps []step
	}{
		{"sign certificate by SFI", []step{{selJPKI, ok, Public}, {[]byte{0x00, 0xB0, 0x81, 0x00, 0x00}, data, Personal}}},
		{"auth CA certificate", []step{{selJPKI, ok, Public}, {selEF(0x000B), ok, Public}, {read, data, Public}}},
		{"partial JPKI name", []step{{[]byte{0x00, 0xA4, 0x04, 0x0C, 0x08, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00}, ok, Public}, {selEF(0x0001), ok, Public}, {read, data, Personal}}},
		{"My Number", []step{{selText, ok, Public}, {selEF(0x0001), ok, Public}, {read, data, MyNumber}}},
		{"integrity record", []step{{selText, ok, Public}, {selEF(0x0003), ok, Public}, {read, data, Personal}}},
		{"text CV certificate", []step{{selText, ok, Public}, {selEF(0x0004), ok, Public}, {read, data, Public}}},
		{"card face", []step{{selFace, ok, Public}, {selEF(0x0002), ok, Public}, {read, data, Personal}}},
		{"age record by SFI", []step{{selFace, ok, Public}, {[]byte{0x00, 0xB0, 0x81, 0x00, 0x00}, data, Personal}}},
		{"face EF 0003", []step{{selFace, ok, Public}, {selEF(0x0003), ok, Public}, {read, data, Public}}},
		{"failed SELECT keeps the old EF", []step{{selText, ok, Public}, {selEF(0x0002), ok, Public}, {selEF(0x0004), []byte{0x6A, 0x82}, Public}, {read, data, Personal}}},
		{"unanswered applet SELECT", []step{{selText, ok, Public}, {selJPKI, nil, Public}, {selEF(0x000A), ok, Public}, {read, data, Personal}}},
		{"applet SELECT restores", []step{{selText, ok, Public}, {selJPKI, nil, Public}, {selJPKI, ok, Public}, {selEF(0x000A), ok, Public}, {read, data, Public}}},
		{"GET RESPONSE continues a personal read", []step{{selJPKI, ok, Public}, {selEF(0x0001), ok, Public}, {[]byte{0x00, 0xB0, 0x00, 0x00, 0x00}, []byte{0x61, 0x00}, Personal}, {[]byte{0x00, 0xC0, 0x00, 0x00, 0x00}, data, Personal}}},
		{"GET RESPONSE after a public read", []step{{selJPKI, ok, Public}, {selEF(0x000A), ok, Public}, {read, []byte{0x61, 0x00}, Public}, {[]byte{0x00, 0xC0, 0x00, 0x00, 0x00}, data, Public}}},
		{"common applet record", []step{{[]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x01, 0x00}, ok, Public}, {[]byte{0x00, 0xB2, 0x01, 0x0C, 0x00}, data, Personal}}},
		{"GET DATA municipality", []step{{[]byte{0x00, 0xCA, 0x00, 0xF0, 0x00}, data, Personal}}},
		{"GET DATA card number", []step{{[]byte{0x00, 0xCA, 0x00, 0x45, 0x00}, data, Personal}}},
		{"GET DATA ATR", []step{{[]byte{0x00, 0xCA, 0x5F, 0x51, 0x00}, data, Public}}},
		{"signature", []step{{selJPKI, ok, Public}, {[]byte{0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00}, data, Public}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Follower
			for i, s := range tt.steps {
				if got := f.Next(s.cmd, s.resp); got != s.want {
					t.Errorf("step %d (% X): %v, want %v", i, s.cmd, got, s.want)
				}
			}
		})
	}
}

func TestHiderHidesPhysicalCardsPersonalData(t *testing.T) {
	t.Setenv(EnvReportPersonal, "")
	cert := signCertDER()
	steps := []struct{ cmd, resp []byte }{
		{selJPKI, ok},
		{selEF(0x0001), ok},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00}, with9000(cert[:256])},
		{selEF(0x000A), ok},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x04}, []byte{0x30, 0x82, 0x05, 0xDC, 0x90, 0x00}},
	}
	render := func(h *Hider) string {
		var b strings.Builder
		for _, s := range steps {
			b.WriteString(h.Response(s.cmd, s.resp) + "\n")
		}
		return b.String()
	}
	s := render(NewHider(true))
	if l := leaks(s); len(l) > 0 || !strings.Contains(s, "<256 bytes of personal data hidden> 90 00") || !strings.Contains(s, "30 82 05 DC 90 00") {
		t.Errorf("physical card, shows %q:\n%s", l, s)
	}
	if s := render(NewHider(false)); len(leaks(s)) != len(holderFacts) {
		t.Errorf("simulated card: %q:\n%s", leaks(s), s)
	}
	t.Setenv(EnvReportPersonal, "1")
	if s := render(NewHider(true)); len(leaks(s)) != len(holderFacts) {
		t.Errorf("physical card with %s=1: %q:\n%s", EnvReportPersonal, leaks(s), s)
	}
}
