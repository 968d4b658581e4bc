// Package bench measures what a PC/SC client pays to talk to the simulated
// card through pcscd and vpcd: the round trip of a short APDU against the
// simulated My Number Card on vpcd slot 0 and against vpcd.EchoCard (a card
// that does nothing) on slot 1, measured in the same run and interleaved so
// that both see the same machine load. The ratio of the medians is the
// simulator's own share of the round trip; the echo median is the floor set
// by pcscd, vpcd and loopback TCP (docs/vpcd-pcscd.md §5.4). It also times
// OpenSC reading the four certificates and making one signature, wall
// clock, tool start-up included.
package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/interop"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/vpcd"
)

// StatusQuery is the APDU timed: VERIFY with no data, `00 20 00 80`, the
// tries-left query of the selected PIN EF (ISO/IEC 7816-4 clause 11.5.6;
// docs/card.md §4.1). The simulated card answers 63C3, EchoCard 9000.
var StatusQuery = []byte{0x00, 0x20, 0x00, 0x80}

// Stats summarises one series of round trips.
type Stats struct {
	N           int
	Median, P99 time.Duration
	Min, Max    time.Duration
}

// Summarise sorts d (in place) and returns its statistics; the p99 is the
// nearest-rank percentile.
func Summarise(d []time.Duration) Stats {
	if len(d) == 0 {
		return Stats{}
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	mid := len(d) / 2
	median := d[mid]
	if len(d)%2 == 0 {
		median = (d[mid-1] + d[mid]) / 2
	}
	return Stats{N: len(d), Median: median, P99: rank(0.99), Min: d[0], Max: d[len(d)-1]}
}

// Report is the result of Measure.
type Report struct {
	Sim, Echo Stats
	// Ratio is Sim.Median / Echo.Median.
	Ratio float64
	// OpenSC holds wall times of the tool runs, in order; zero if skipped.
	OpenSC []Timing
}

// Timing is one timed step.
type Timing struct {
	What string
	Took time.Duration
}

// Options configures Measure.
type Options struct {
	N      int  // round trips per card (default 2000)
	OpenSC bool // also time the OpenSC tools
	// SignPIN and AuthPIN unlock the simulated card's keys for the OpenSC
	// step (its profile's PINs).
	AuthPIN, SignPIN jpkiclient.PIN
}

// Measure attaches card (the simulated card) to vpcd slot 0 and EchoCard to
// slot 1 of the running pcscd, and times N interleaved round trips of
// StatusQuery on each. pcscd must be running (pcscdenv.StartPCSCD).
func Measure(ctx context.Context, issued *simcard.Issued, o Options) (*Report, error) {
	if o.N <= 0 {
		o.N = 2000
	}
	sim, err := vpcdslot.Attach(ctx, issued.Card, 0)
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	defer sim.Detach(context.Background()) //nolint:errcheck // best effort
	echo, err := vpcdslot.Attach(ctx, vpcd.EchoCard{}, 1)
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	defer echo.Detach(context.Background()) //nolint:errcheck // best effort

	pc, err := pcsc.Establish()
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	defer pc.Close()
	simCard, err := pc.Connect(sim.Reader, pcsc.Shared)
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	defer simCard.Close()
	echoCard, err := pc.Connect(echo.Reader, pcsc.Shared)
	if err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	defer echoCard.Close()

	cl := jpkiclient.New(simCard)
	if err := cl.SelectAP(); err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}
	if err := cl.SelectEF(jpkiclient.EFAuthPIN); err != nil {
		return nil, fmt.Errorf("measuring: %w", err)
	}

	simD, echoD, err := interleave(ctx, simCard, echoCard, o.N)
	if err != nil {
		return nil, err
	}
	r := &Report{Sim: Summarise(simD), Echo: Summarise(echoD)}
	if r.Echo.Median > 0 {
		r.Ratio = float64(r.Sim.Median) / float64(r.Echo.Median)
	}
	if o.OpenSC {
		// OpenSC needs the card to itself: free it.
		_ = simCard.Close()
		if r.OpenSC, err = timeOpenSC(ctx, sim.Reader, issued, o); err != nil {
			return r, err
		}
	}
	return r, nil
}

// interleave warms both paths up, then times n round trips on each, the two
// cards taking turns to go first so that neither always follows the other.
func interleave(ctx context.Context, simCard, echoCard *pcsc.Card, n int) (simD, echoD []time.Duration, err error) {
	// Warm up both paths (first-use allocations, CPU frequency).
	for range 50 {
		if _, err := simCard.Transmit(StatusQuery); err != nil {
			return nil, nil, fmt.Errorf("warming up the simulated card: %w", err)
		}
		if _, err := echoCard.Transmit(StatusQuery); err != nil {
			return nil, nil, fmt.Errorf("warming up the echo card: %w", err)
		}
	}
	simD, echoD = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("measuring: %w", err)
		}
		first, second := simCard, echoCard
		if i%2 == 1 {
			first, second = echoCard, simCard
		}
		d1, err := roundTrip(first)
		if err != nil {
			return nil, nil, err
		}
		d2, err := roundTrip(second)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		simD, echoD = append(simD, d1), append(echoD, d2)
	}
	return simD, echoD, nil
}

func roundTrip(c *pcsc.Card) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Transmit(StatusQuery)
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("timing %q: %w", c.Reader(), err)
	}
	if len(resp) != 2 {
		return 0, fmt.Errorf("timing %q: response % X, want a bare status word", c.Reader(), resp)
	}
	return d, nil
}

// timeOpenSC runs pkcs15-tool for the four certificates and pkcs11-tool for
// one auth signature, checking each result against the issued card.
func timeOpenSC(ctx context.Context, reader string, issued *simcard.Issued, o Options) ([]Timing, error) {
	var out []Timing
	certs := []struct {
		id   string
		pin  jpkiclient.PIN
		want []byte
	}{
		{"01", "", issued.AuthCert.Raw},
		{"02", o.SignPIN, issued.SignCert.Raw},
		{"03", "", issued.Authority().AuthCA.Cert.Raw},
		{"04", "", issued.Authority().SignCA.Cert.Raw},
	}
	total := time.Now()
	for _, c := range certs {
		start := time.Now()
		der, err := interop.ReadCertificate(ctx, reader, c.id, "02", c.pin)
		if err != nil {
			return out, fmt.Errorf("timing OpenSC: %w", err)
		}
		if string(der) != string(c.want) {
			return out, fmt.Errorf("timing OpenSC: certificate %s differs from the card's", c.id)
		}
		out = append(out, Timing{"pkcs15-tool --read-certificate " + c.id, time.Since(start)})
	}
	data := make([]byte, 64)
	_, _ = rand.Read(data)
	start := time.Now()
	sig, err := interop.Sign(ctx, reader, interop.AuthToken, "01", "SHA256-RSA-PKCS", o.AuthPIN, data)
	if err != nil {
		return out, fmt.Errorf("timing OpenSC: %w", err)
	}
	out = append(out, Timing{"pkcs11-tool --login --sign (auth key)", time.Since(start)},
		Timing{"total: four certificates + one signature", time.Since(total)})
	if err := interop.OpenSSLVerify(ctx, issued.AuthCert.Raw, data, sig); err != nil {
		return out, fmt.Errorf("timing OpenSC: %w", err)
	}
	return out, nil
}

// Goal is the target for Ratio: the simulator may add at most a quarter to
// the bare pcscd + vpcd round trip.
const Goal = 1.25

// String renders the report as a small table.
func (r *Report) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "round trip of 00 20 00 80 via pcscd\tN\tmedian\tp99\tmin\tmax\t\n")
	for _, row := range []struct {
		name string
		s    Stats
	}{{"simulated card (slot 0)", r.Sim}, {"vpcd.EchoCard (slot 1)", r.Echo}} {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t\n", row.name, row.s.N, us(row.s.Median), us(row.s.P99), us(row.s.Min), us(row.s.Max))
	}
	_ = w.Flush()
	verdict := "meets"
	if r.Ratio > Goal {
		verdict = "MISSES"
	}
	fmt.Fprintf(&b, "ratio sim/echo median: %.3f (%s the goal ≤ %.2f); echo median %s\n", r.Ratio, verdict, Goal, us(r.Echo.Median))
	if len(r.OpenSC) > 0 {
		w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "OpenSC step\twall time\n")
		for _, t := range r.OpenSC {
			fmt.Fprintf(w, "%s\t%s\n", t.What, t.Took.Round(time.Millisecond))
		}
		_ = w.Flush()
	}
	return b.String()
}

func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond)) }
