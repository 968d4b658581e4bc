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

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/testenv"
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
	run := func(target string) (time.Duration, int) {
		t.Helper()
		visits := filepath.Join(dir, "visits-"+target)
		cmd := exec.Command(bin, "-test.count=1")
		cmd.Dir = "../scenarios/lifecycle"
		cmd.Env = append(os.Environ(), "MYNAHIL_TARGET="+target, "MYNAHIL_VISIT_LOG="+visits)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			t.Fatalf("lifecycle suite on %s: %v\n%s", target, err, out)
		}
		if !bytes.Contains(out, []byte(" 0 skipped")) {
			t.Fatalf("lifecycle suite on %s skipped specs:\n%s", target, out)
		}
		b, _ := os.ReadFile(visits)
		return took, strings.Count(string(b), "\n")
	}
	inProcess, _ := run("sim")
	throughPCSCD, visits := run("pcsc")
	removal, insertion := detection(t, 7)

	limit := 2*inProcess + time.Duration(visits)*(removal+insertion)
	ratio := float64(throughPCSCD) / float64(inProcess)
	t.Logf("lifecycle suite, wall clock (test binary start to exit):")
	t.Logf("  in process (sim)        %8.2fs", inProcess.Seconds())
	t.Logf("  through pcscd (pcsc)    %8.2fs  ratio %.2f", throughPCSCD.Seconds(), ratio)
	t.Logf("  pcscd detection         removal %v, insertion %v (median of 7)", removal.Round(time.Millisecond), insertion.Round(time.Millisecond))
	t.Logf("  office visits           %d", visits)
	t.Logf("  limit 2×in-process + visits×detection = %.2fs; through pcscd uses %.0f%% of it",
		limit.Seconds(), 100*float64(throughPCSCD)/float64(limit))
	t.Logf("  through pcscd minus visits×detection = %.2fs = %.2f × in process",
		(throughPCSCD - time.Duration(visits)*(removal+insertion)).Seconds(),
		float64(throughPCSCD-time.Duration(visits)*(removal+insertion))/float64(inProcess))
	if visits == 0 {
		t.Error("no office visit was logged on pcsc: the suite did not go through the daemon")
	}
	if throughPCSCD > limit {
		t.Errorf("through pcscd %v > 2 × %v + %d × (%v + %v) = %v", throughPCSCD, inProcess, visits, removal, insertion, limit)
	}
}

// detection times pcscd noticing a simulated card inserted into and
// removed from vpcd slot 1, n times each, and returns the medians.
func detection(t *testing.T, n int) (removal, insertion time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := testenv.StartPCSCD(ctx)
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
		a, err := testenv.Attach(ctx, issued.Card, 1)
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
