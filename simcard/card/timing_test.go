package card

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
	"github.com/mynahil/mynahil/simcard/timing"
)

// sleeps records the delays a card asks for instead of waiting.
type sleeps []time.Duration

func (s *sleeps) sleep(d time.Duration) { *s = append(*s, d) }

func selectTestAID() []byte {
	return append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(testAID))}, testAID...)
}

// The instant profile (the default) never asks for a delay; a profile
// asks for exactly its delay after every command, Transmit and
// TransmitObserved alike; an unknown name is refused and changes nothing.
func TestTimingApplied(t *testing.T) {
	var got sleeps
	c := testCard(t, nil)
	c.sleep = got.sleep
	c.Transmit(selectTestAID())
	c.TransmitObserved(selectTestAID(), func(*apdu.Command, []byte) {})
	if len(got) != 0 || c.Timing() != timing.Instant {
		t.Fatalf("instant card asked for delays %v (timing %q)", got, c.Timing())
	}

	if err := c.SetTiming(timing.Contact); err != nil {
		t.Fatal(err)
	}
	p, _ := timing.Lookup(timing.Contact)
	sel := selectTestAID()
	cmd, _ := apdu.Parse(sel)
	resp := c.Transmit(sel)
	verify := []byte{0x00, 0x20, 0x00, 0x98, 0x04, '1', '2', '3', '4'}
	vcmd, _ := apdu.Parse(verify)
	c.TransmitObserved(verify, func(*apdu.Command, []byte) {})
	want := sleeps{p.Delay(&cmd, len(sel), len(resp)), p.Delay(&vcmd, len(verify), 2)}
	if !slices.Equal(got, want) || want[1] <= want[0] {
		t.Fatalf("contact card asked for %v, want %v", got, want)
	}

	if err := c.SetTiming("warp"); err == nil || c.Timing() != timing.Contact {
		t.Fatalf("SetTiming(warp) = %v, timing now %q", err, c.Timing())
	}
	if err := c.SetTiming(""); err != nil || c.Timing() != timing.Instant {
		t.Fatalf("SetTiming(\"\") = %v, timing now %q", err, c.Timing())
	}
	got = nil
	c.Transmit(sel)
	if len(got) != 0 {
		t.Fatalf("back to instant, the card asked for %v", got)
	}
}

// A state issued with a timing profile answers with it; a state naming an
// unknown profile is refused.
func TestTimingFromState(t *testing.T) {
	c := testCard(t, nil)
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var st State
	c.Inspect(func(s *State) { st = *s })
	st.Timing = timing.Contactless
	c2, err := New(st)
	if err != nil || c2.Timing() != timing.Contactless {
		t.Fatalf("New with timing contactless: %v, timing %q", err, c2.Timing())
	}
	st.Timing = "warp"
	if _, err := New(st); err == nil {
		t.Fatal("New with an unknown timing profile succeeded")
	}
	bad := []byte(string(b[:len(b)-1]) + `,"timing":"warp"}`)
	if _, err := Load(bad); err == nil {
		t.Fatal("Load of a state with an unknown timing profile succeeded")
	}
}

// The delays are real: with time.Sleep each signature takes at least the
// profile's delay, and no more than the delay plus a margin derived from
// this run: the median overshoot of time.Sleep for the same delay, plus
// the median time of the same command on the instant card, each times
// five, plus 2 ms.
func TestTimingWithinTolerance(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps about 3 s")
	}
	const n = 5
	c := testCard(t, nil)
	verify := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18}
	sign := []byte{0x80, 0x2A, 0x00, 0x80, 0x02, 0x01, 0x02, 0x00}
	login := func() {
		c.Transmit(selectTestAID())
		c.Transmit(verify)
		c.Transmit([]byte{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'})
		c.Transmit([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17})
	}
	login()
	time1 := func() time.Duration {
		start := time.Now()
		if r := c.Transmit(sign); len(r) != 258 {
			t.Fatalf("sign answered % X", r[len(r)-2:])
		}
		return time.Since(start)
	}
	var instant, over, paced []time.Duration
	for range n {
		instant = append(instant, time1())
	}
	p, _ := timing.Lookup(timing.Contact)
	cmd, _ := apdu.Parse(sign)
	delay := p.Delay(&cmd, len(sign), 258)
	for range n {
		start := time.Now()
		time.Sleep(delay)
		over = append(over, time.Since(start)-delay)
	}
	if err := c.SetTiming(timing.Contact); err != nil {
		t.Fatal(err)
	}
	for range n {
		paced = append(paced, time1())
	}
	margin := 5*(median(over)+median(instant)) + 2*time.Millisecond
	t.Logf("delay %v; instant median %v; sleep overshoot median %v; paced %v; margin %v", delay, median(instant), median(over), paced, margin)
	for i, d := range paced {
		if d < delay {
			t.Errorf("signature %d took %v, less than the profile's %v", i+1, d, delay)
		}
	}
	if m := median(paced); m > delay+margin {
		t.Errorf("signatures took %v (median), more than %v + %v", m, delay, margin)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// BenchmarkTimingDefaultPath: the instant card's Transmit against the same
// command without the timing check (parse and run), interleaved in one
// run; the metric is the median of the per-round ratios, robust to other
// jobs on the machine (docs/card.md §7.1).
func BenchmarkTimingDefaultPath(b *testing.B) {
	c := testCard(b, nil)
	c.Transmit(selectTestAID())
	cmd := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18}
	const chunk = 200
	var ratios []float64
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += 2 * chunk {
		start := time.Now()
		for range chunk {
			parsed, _ := apdu.Parse(cmd)
			c.run(&parsed)
		}
		base := time.Since(start)
		start = time.Now()
		for range chunk {
			c.Transmit(cmd)
		}
		ratios = append(ratios, float64(time.Since(start))/float64(base))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-no-timing")
}
