package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
)

// EnvLifecycle opts in to TestLifecycleWallTime (make bench-lifecycle): it
// runs the whole lifecycle suite twice and takes a minute.
const EnvLifecycle = "MYNAHIL_BENCH_LIFECYCLE"

// TestLifecycleWallTime runs the lifecycle suite in process (sim) and
// through pcscd (pcsc), and times pcscd noticing a card's removal and
// insertion, all in the same run. Through pcscd the suite may cost at most
// twice the in-process run plus one removal and one insertion detection
// per office visit (a new card in the reader, or a change at the office,
// which takes the card out and puts it back): that part is pcscd's
// polling, not this code (docs/suites.md, "Speed").
func TestLifecycleWallTime(t *testing.T) {
	if os.Getenv(EnvLifecycle) != "1" {
		t.Skipf("set %s=1 (make bench-lifecycle): runs the lifecycle suite twice", EnvLifecycle)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lifecycle.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "../scenarios/lifecycle")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the lifecycle suite: %v\n%s", err, out)
	}
	// run returns the wall time and the office visits logged: new cards
	// (each inserted once and removed once) and changes at the office.
	run := func(target string) (took time.Duration, cards, changes int) {
		t.Helper()
		visits := filepath.Join(dir, "visits-"+target)
		cmd := exec.Command(bin, "-test.count=1")
		cmd.Dir = "../scenarios/lifecycle"
		cmd.Env = append(os.Environ(), "MYNAHIL_TARGET="+target, "MYNAHIL_VISIT_LOG="+visits)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took = time.Since(start)
		if err != nil {
			t.Fatalf("lifecycle suite on %s: %v\n%s", target, err, out)
		}
		if !bytes.Contains(out, []byte(" 0 skipped")) {
			t.Fatalf("lifecycle suite on %s skipped specs:\n%s", target, out)
		}
		b, _ := os.ReadFile(visits)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			switch {
			case line == "":
			case line == "new card":
				cards++
			default:
				changes++
			}
		}
		return took, cards, changes
	}
	inProcess, _, _ := run("sim")
	throughPCSCD, cards, changes := run("pcsc")
	removal, insertion := detection(t, 7)

	// pcscd's share: a new card is noticed once going in and once going
	// out; a change keeps the card out simd.DefaultRemovalTime (so that
	// pcscd's polling sees it leave; the measured removal detection if
	// longer) and is noticed coming back.
	perCard := removal + insertion
	perChange := max(removal, simd.DefaultRemovalTime) + insertion
	pcscdShare := time.Duration(cards)*perCard + time.Duration(changes)*perChange
	limit := 2*inProcess + pcscdShare
	visits := cards + changes
	t.Logf("lifecycle suite, wall clock (test binary start to exit):")
	t.Logf("  in process (sim)        %8.2fs", inProcess.Seconds())
	t.Logf("  through pcscd (pcsc)    %8.2fs  ratio %.2f", throughPCSCD.Seconds(), float64(throughPCSCD)/float64(inProcess))
	t.Logf("  pcscd detection         removal %v, insertion %v (median of 7); the office keeps a card out %v",
		removal.Round(time.Millisecond), insertion.Round(time.Millisecond), simd.DefaultRemovalTime)
	t.Logf("  office visits           %d new cards × %v + %d changes × %v = %.2fs of pcscd polling",
		cards, perCard.Round(time.Millisecond), changes, perChange.Round(time.Millisecond), pcscdShare.Seconds())
	t.Logf("  limit 2 × in process + polling = %.2fs; through pcscd took %.2f of it (ratio to the limit)",
		limit.Seconds(), float64(throughPCSCD)/float64(limit))
	if visits == 0 {
		t.Error("no office visit was logged on pcsc: the suite did not go through the daemon")
	}
	if throughPCSCD > limit {
		t.Errorf("through pcscd %v > 2 × %v + %v of pcscd polling = %v", throughPCSCD, inProcess, pcscdShare, limit)
	}
}

// detection times pcscd noticing a simulated card inserted into and
// removed from vpcd slot 1, n times each, and returns the medians.
func detection(t *testing.T, n int) (removal, insertion time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := pcscdenv.StartPCSCD(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := is.Issue(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	var ins, rem []time.Duration
	for range n {
		start := time.Now()
		a, err := vpcdslot.Attach(ctx, issued.Card, 1)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, time.Since(start))
		start = time.Now()
		if err := a.Detach(ctx); err != nil {
			t.Fatal(fmt.Errorf("removing the card: %w", err))
		}
		rem = append(rem, time.Since(start))
	}
	return Summarise(rem).Median, Summarise(ins).Median
}
