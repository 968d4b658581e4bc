package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/interop"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
)

func TestSummarise(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want Stats
	}{
		{"empty", nil, Stats{}},
		{"one", []time.Duration{5}, Stats{N: 1, Median: 5, P99: 5, Min: 5, Max: 5}},
		{"even count averages the middle pair", []time.Duration{4, 1, 3, 2}, Stats{N: 4, Median: 2, P99: 4, Min: 1, Max: 4}},
		{"p99 of 200 is the 198th", func() []time.Duration {
			d := make([]time.Duration, 200)
			for i := range d {
				d[i] = time.Duration(200 - i)
			}
			return d
		}(), Stats{N: 200, Median: 100, P99: 198, Min: 1, Max: 200}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarise(tc.in); got != tc.want {
				t.Errorf("Summarise = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func issue(tb testing.TB) *simcard.Issued {
	tb.Helper()
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		tb.Fatal(err)
	}
	issued, err := is.Issue(profile.Default())
	if err != nil {
		tb.Fatal(err)
	}
	return issued
}

// TestRoundTrip prints the benchmark table (go test -v -run RoundTrip
// ./bench) and fails when the simulated card's median round trip exceeds
// the echo card's by more than Goal (override with MYNAHIL_BENCH_MAX_RATIO
// on a loaded machine). MYNAHIL_BENCH_N sets the round trips per card.
func TestRoundTrip(t *testing.T) {
	pcscdenv.Require(t)
	n := 2000
	if s := os.Getenv("MYNAHIL_BENCH_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			t.Fatalf("MYNAHIL_BENCH_N=%q: want a positive number", s)
		}
	}
	limit := Goal
	if s := os.Getenv("MYNAHIL_BENCH_MAX_RATIO"); s != "" {
		var err error
		if limit, err = strconv.ParseFloat(s, 64); err != nil {
			t.Fatalf("MYNAHIL_BENCH_MAX_RATIO=%q: %v", s, err)
		}
	}
	withOpenSC := interop.Require("pkcs15-tool", "pkcs11-tool", "openssl") == nil
	if _, err := interop.PKCS11Module(); err != nil {
		withOpenSC = false
	}
	if !withOpenSC && pcscdenv.InCI() {
		t.Fatal("CI=true: OpenSC and openssl must be installed for the OpenSC timings")
	}
	issued := issue(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r, err := Measure(ctx, issued, Options{N: n, OpenSC: withOpenSC,
		AuthPIN: jpkiclient.PIN(issued.Profile.PINs.Auth), SignPIN: jpkiclient.PIN(issued.Profile.PINs.Sign)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", r)
	if r.Sim.N != n || r.Echo.N != n {
		t.Errorf("measured %d/%d round trips, want %d each", r.Sim.N, r.Echo.N, n)
	}
	if r.Ratio > limit {
		t.Errorf("simulated card median %v is %.2f× the echo card's %v, want ≤ %.2f", r.Sim.Median, r.Ratio, r.Echo.Median, limit)
	}
}

// BenchmarkPCSCD times one StatusQuery round trip through pcscd to each
// card: go test -bench . -run '^$' ./bench
func BenchmarkPCSCD(b *testing.B) {
	pcscdenv.Require(b)
	issued := issue(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, bc := range []struct {
		name string
		card vpcd.Card
		slot int
	}{{"sim", issued.Card, 0}, {"echo", vpcd.EchoCard{}, 1}} {
		b.Run(bc.name, func(b *testing.B) {
			a, err := vpcdslot.Attach(ctx, bc.card, bc.slot)
			if err != nil {
				b.Fatal(err)
			}
			defer a.Detach(context.Background())
			pc, err := pcsc.Establish()
			if err != nil {
				b.Fatal(err)
			}
			defer pc.Close()
			c, err := pc.Connect(a.Reader, pcsc.Shared)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if bc.name == "sim" {
				cl := jpkiclient.New(c)
				if err := cl.SelectAP(); err != nil {
					b.Fatal(err)
				}
				if err := cl.SelectEF(jpkiclient.EFAuthPIN); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if _, err := c.Transmit(StatusQuery); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
