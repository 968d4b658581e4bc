package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
)

// EnvLifecycle opts in to TestLifecycleWallTime (make bench-lifecycle sets
// it): it runs the whole lifecycle suite three times. Without it the test
// skips, so that 'go test ./...' stays quick; the make target never skips
// (it fails when the test did not run).
const EnvLifecycle = "MYNAHIL_BENCH_LIFECYCLE"

// lifecycleProcs is the ginkgo -p process count of the parallel run: two
// vpcd slots each (harness/target.ProcessSlot), 16 in all.
const lifecycleProcs = 8

// TestLifecycleWallTime runs the lifecycle suite in process (sim), through
// pcscd with lifecycleProcs Ginkgo processes, each with its own readers,
// and through pcscd in one process, and times pcscd noticing a card's
// removal and insertion, all in the same run (docs/suites.md, "Speed").
//
//   - In parallel through pcscd the suite takes at most twice the
//     in-process wall time: pcscd's polling is paid in every process at
//     once, not one office visit after the other.
//   - Serially it may cost at most twice the in-process run plus one
//     removal and one insertion detection per office visit (a new card in
//     the reader, or a change at the office, which takes the card out and
//     puts it back): that part is pcscd's polling, not this code.
//
// Every run must pass with no spec skipped, and the parallel run must end
// with one summary line counting every spec of all processes.
func TestLifecycleWallTime(t *testing.T) {
	if os.Getenv(EnvLifecycle) != "1" {
		t.Skipf("set %s=1 (make bench-lifecycle): runs the lifecycle suite three times", EnvLifecycle)
	}
	if slots, err := pcscdenv.Slots(); err != nil || slots < 2*lifecycleProcs {
		t.Fatalf("the parallel run needs a pcscd with %d vpcd slots (%s=%d, %v): run under scripts/with-pcscd --slots %d, as make bench-lifecycle does",
			2*lifecycleProcs, pcscdenv.EnvSlots, slots, err, 2*lifecycleProcs)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lifecycle.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "../scenarios/lifecycle")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the lifecycle suite: %v\n%s", err, out)
	}
	// Every run takes the cards' keys from one file (simcard/keypool),
	// generated here: no run pays for key generation, and the parallel
	// one not eight times over.
	keys := filepath.Join(dir, "keys.pem")
	if _, err := keypool.LoadOrCreateFile(keys, 24); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keypool.EnvFile, keys)
	inProcess, specs, _ := runLifecycle(t, bin, "sim", 1)
	parallel, parSpecs, parVisits := runLifecycle(t, bin, "pcsc", lifecycleProcs)
	serial, _, serVisits := runLifecycle(t, bin, "pcsc", 1)
	removal, insertion := detection(t, 7)

	// pcscd's share of a process: a new card is noticed once going in and
	// once going out; a change keeps the card out simd.DefaultRemovalTime
	// (so that pcscd's polling sees it leave; the measured removal
	// detection if longer) and is noticed coming back.
	perCard := removal + insertion
	perChange := max(removal, simd.DefaultRemovalTime) + insertion
	polling := func(v visits) time.Duration {
		return time.Duration(v.cards)*perCard + time.Duration(v.changes)*perChange
	}
	var busiest visits
	for _, v := range parVisits {
		if polling(v) > polling(busiest) {
			busiest = v
		}
	}
	serialShare := polling(serVisits[1])
	limit := 2*inProcess + serialShare
	parLimit := 2*inProcess + polling(busiest)
	ratio := func(d time.Duration) float64 { return float64(d) / float64(inProcess) }
	lines := []string{
		"lifecycle suite, wall clock (start to exit of the run), same machine, same run:",
		fmt.Sprintf("  in process (sim)                 %8.2fs  %d specs", inProcess.Seconds(), specs),
		fmt.Sprintf("  through pcscd, %d processes       %8.2fs  ratio %.2f (issue 19's goal: 2.00)", lifecycleProcs, parallel.Seconds(), ratio(parallel)),
		fmt.Sprintf("  through pcscd, serial            %8.2fs  ratio %.2f", serial.Seconds(), ratio(serial)),
		fmt.Sprintf("  pcscd detection                  removal %v, insertion %v (median of 7); the office keeps a card out %v",
			removal.Round(time.Millisecond), insertion.Round(time.Millisecond), simd.DefaultRemovalTime),
		fmt.Sprintf("  office visits, serial run        %d new cards × %v + %d changes × %v = %.2fs of pcscd polling",
			serVisits[1].cards, perCard.Round(time.Millisecond), serVisits[1].changes, perChange.Round(time.Millisecond), serialShare.Seconds()),
		fmt.Sprintf("  office visits, busiest process   %d new cards + %d changes = %.2fs of pcscd polling (of %d processes)",
			busiest.cards, busiest.changes, polling(busiest).Seconds(), len(parVisits)),
		fmt.Sprintf("  serial limit   2 × in process + polling = %.2fs; serial took %.2f of it", limit.Seconds(), float64(serial)/float64(limit)),
		fmt.Sprintf("  parallel limit 2 × in process + the busiest process's polling = %.2fs; parallel took %.2f of it",
			parLimit.Seconds(), float64(parallel)/float64(parLimit)),
	}
	for _, l := range lines {
		t.Log(l)
	}
	if out := os.Getenv("MYNAHIL_BENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Error(err)
		}
	}
	if serialShare == 0 || len(parVisits) == 0 {
		t.Error("no office visit was logged on pcsc: the suite did not go through the daemon")
	}
	if len(parVisits) < 2 {
		t.Errorf("the parallel run's visits came from %d process(es): the suite did not spread", len(parVisits))
	}
	if parSpecs != specs {
		t.Errorf("the parallel run counted %d specs in its summary, the in-process run %d", parSpecs, specs)
	}
	if parallel > parLimit {
		t.Errorf("through pcscd with %d processes %v > 2 × in process %v + the busiest process's polling %v", lifecycleProcs, parallel, inProcess, polling(busiest))
	}
	if serial > limit {
		t.Errorf("through pcscd serially %v > 2 × %v + %v of pcscd polling = %v", serial, inProcess, serialShare, limit)
	}
}

// visits counts a process's office visits: new cards (each inserted once
// and removed once) and changes at the office.
type visits struct{ cards, changes int }

// summaryLine is the suite's runsummary line: specs counted over all
// processes, and how many ran, passed and were skipped.
var summaryLine = regexp.MustCompile(`mynahil: Card lifecycle: (\d+) specs: (\d+) ran, (\d+) passed, (\d+) failed, (\d+) skipped`)

// runLifecycle runs the suite binary on target with procs Ginkgo processes
// (through the ginkgo CLI when more than one) and returns the wall time,
// the specs of its one summary line, and the office visits logged per
// Ginkgo process. It fails the test unless the run passed whole, with no
// spec skipped.
func runLifecycle(t *testing.T, bin, target string, procs int) (took time.Duration, specs int, byProc map[int]visits) {
	t.Helper()
	log := filepath.Join(t.TempDir(), "visits")
	cmd := exec.Command(bin, "-test.count=1", "-ginkgo.no-color")
	if procs > 1 {
		cmd = exec.Command("go", "tool", "ginkgo", "--no-color", "-p", "--procs", strconv.Itoa(procs), bin)
	}
	cmd.Dir = "../scenarios/lifecycle"
	cmd.Env = append(os.Environ(), "MYNAHIL_TARGET="+target, "MYNAHIL_VISIT_LOG="+log)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took = time.Since(start)
	what := fmt.Sprintf("lifecycle suite on %s with %d process(es)", target, procs)
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
	m := summaryLine.FindAllSubmatch(out, -1)
	if len(m) != 1 {
		t.Fatalf("%s: %d summary lines, want exactly one:\n%s", what, len(m), out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(string(m[0][i])); return v }
	if specs = n(1); specs == 0 || n(2) != specs || n(3) != specs || n(5) != 0 {
		t.Fatalf("%s: %s; want every spec run and passed, none skipped", what, m[0][0])
	}
	b, _ := os.ReadFile(log)
	byProc = map[int]visits{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		p, visit, _ := strings.Cut(line, " ")
		proc, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("%s: visit log line %q: want the process number first", what, line)
		}
		v := byProc[proc]
		if visit == "new card" {
			v.cards++
		} else {
			v.changes++
		}
		byProc[proc] = v
	}
	return took, specs, byProc
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
