package bench

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
)

// EnvCards opts in to TestCardsThroughput (make bench-cards sets it).
const EnvCards = "MYNAHIL_BENCH_CARDS"

// EnvBenchDir is where the benchmarks write their figures (make sets
// $(REPORTS)): bench-cards.txt and bench-cards.svg.
const EnvBenchDir = "MYNAHIL_BENCH_DIR"

// cardCounts are the numbers of cards signing at once.
var cardCounts = []int{1, 2, 4, 8, 16}

// cardsWindow is how long each count signs on each side.
const cardsWindow = 3 * time.Second

// TestCardsThroughput: N = 1, 2, 4, 8, 16 simulated cards sign at once,
// each with a client of its own, through pcscd ('mynahil sim --cards N',
// N PC/SC contexts, N vpcd readers) and in process, for cardsWindow each;
// every signature is checked against the card's certificate. It reports
// signatures per second, p50/p99 latency and the sim's RSS per card as a
// table and an SVG plot (docs/suites.md, "Speed"). Needs a pcscd with 16
// vpcd slots (make bench-cards: scripts/with-pcscd --isolate --slots 16).
func TestCardsThroughput(t *testing.T) {
	if os.Getenv(EnvCards) != "1" {
		t.Skipf("set %s=1 (make bench-cards): signs for about a minute", EnvCards)
	}
	pcscdenv.Require(t, pcscdenv.WithSlots(vpcd.MaxSlots))
	// This process holds the slot lock; its sim processes serve the slots.
	t.Setenv(pcscdenv.EnvSlotsLent, strconv.Itoa(os.Getpid()))
	bin := filepath.Join(t.TempDir(), "mynahil")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/mynahil").CombinedOutput(); err != nil {
		t.Fatalf("building mynahil: %v\n%s", err, out)
	}
	var points []CardsPoint
	for _, n := range cardCounts {
		p := CardsPoint{Cards: n}
		p.PCSCD, p.SimRSS = throughPCSCD(t, bin, n)
		p.SimRSSPerCard = p.SimRSS / int64(n)
		p.InProcess = inProcess(t, n)
		points = append(points, p)
	}
	var table bytes.Buffer
	if err := WriteCardsTable(&table, points); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("cards signing at once for %v each, each with its own client (one signature = VERIFY auth PIN + COMPUTE DIGITAL SIGNATURE):\n", cardsWindow)
	t.Log("\n" + head + table.String())
	if dir := os.Getenv(EnvBenchDir); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "bench-cards.txt"), []byte(head+table.String()), 0o644); err != nil {
			t.Error(err)
		}
		var svg bytes.Buffer
		if err := WriteCardsSVG(&svg, "Simulated My Number Cards signing at once", points); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bench-cards.svg"), svg.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// throughPCSCD runs 'mynahil sim --cards n' and signs on its n readers.
func throughPCSCD(t *testing.T, bin string, n int) (Throughput, int64) {
	t.Helper()
	state := t.TempDir()
	var log bytes.Buffer
	sim := exec.Command(bin, "sim", "--state", state, "--cards", strconv.Itoa(n), "--clock", "virtual:2026-04-01")
	sim.Stdout, sim.Stderr = &log, &log
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sim.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = sim.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = sim.Process.Kill()
			<-done
			t.Errorf("mynahil sim --cards %d: no exit 30 s after SIGTERM", n)
		}
		// The next count's cards go into the same readers.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := range n {
			if err := pcscdenv.WaitState(ctx, vpcd.ReaderName(i), false); err != nil {
				t.Errorf("reader %q after the sim stopped: %v", vpcd.ReaderName(i), err)
			}
		}
	}
	defer stop()
	if out, err := exec.Command(bin, "sim", "wait", "--state", state, "--timeout", "60s").CombinedOutput(); err != nil {
		t.Fatalf("sim wait for %d cards: %v\n%s\n--- sim ---\n%s", n, err, out, log.String())
	}
	transports := make([]harness.Transport, n)
	for i := range n {
		c, err := pcsc.Open(vpcd.ReaderName(i), pcsc.Shared) // a PC/SC context each
		if err != nil {
			t.Fatalf("opening %q: %v", vpcd.ReaderName(i), err)
		}
		defer c.Close()
		transports[i] = c
	}
	got := signAll(t, transports)
	rss, err := rssOf(sim.Process.Pid)
	if err != nil {
		t.Errorf("reading the sim's RSS: %v", err)
	}
	stop()
	return got, rss
}

// inProcess signs with n cards issued in this process.
func inProcess(t *testing.T, n int) Throughput {
	t.Helper()
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	transports := make([]harness.Transport, n)
	for i := range n {
		p, err := profile.Default().Nth(i)
		if err != nil {
			t.Fatal(err)
		}
		issued, err := is.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		transports[i] = harness.NewInProcess(issued.Card)
	}
	return signAll(t, transports)
}

// signAll signs on every transport at once for cardsWindow, checking
// every signature against the card's auth certificate.
func signAll(t *testing.T, transports []harness.Transport) Throughput {
	t.Helper()
	digest := sha256.Sum256([]byte("mynahil bench-cards"))
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tr := range transports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine, err := signFor(tr, digest[:], start)
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			if err != nil {
				errs = append(errs, fmt.Errorf("card %d: %w", i, err))
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return Throughput{PerSecond: float64(len(lat)) / took.Seconds(), Latency: Summarise(lat)}
}

// signFor reads the auth certificate, then logs in (VERIFY, SIGN) until
// cardsWindow has passed since start, and returns each login's latency.
func signFor(tr harness.Transport, digest []byte, start <-chan struct{}) ([]time.Duration, error) {
	c := jpkiclient.New(tr)
	if err := c.SelectAP(); err != nil {
		return nil, err
	}
	cert, _, err := c.ReadCertificate(jpkiclient.AuthCert)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("auth certificate key is %T, not RSA", cert.PublicKey)
	}
	<-start
	end := time.Now().Add(cardsWindow)
	var lat []time.Duration
	for time.Now().Before(end) {
		t0 := time.Now()
		if err := c.VerifyPIN(jpkiclient.AuthPIN, jpkiclient.PIN(profile.Default().PINs.Auth)); err != nil {
			return lat, err
		}
		sig, err := c.Sign(jpkiclient.AuthKey, digest, crypto.SHA256)
		if err != nil {
			return lat, err
		}
		lat = append(lat, time.Since(t0))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig); err != nil {
			return lat, fmt.Errorf("signature %d does not verify: %w", len(lat), err)
		}
	}
	return lat, nil
}

// rssOf reads a process's resident set size from /proc.
func rssOf(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
