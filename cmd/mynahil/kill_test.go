package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/store"
	"github.com/mynahil/mynahil/vpcd"
)

// envRunCLI makes the test binary run as the mynahil command itself
// (TestMain): the kill test's sim is a real 'mynahil sim' process.
const envRunCLI = "MYNAHIL_TEST_RUN_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envRunCLI) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// simProcess is a 'mynahil sim' process on a state directory.
type simProcess struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan error
}

func startSimProcess(t *testing.T, state, vpcdAddr string, args ...string) *simProcess {
	t.Helper()
	p := &simProcess{log: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], append([]string{"sim", "--state", state, "--vpcd", vpcdAddr}, args...)...)
	p.cmd.Env = append(os.Environ(), envRunCLI+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(time.Minute)
	for {
		if code, _, _ := runCLI(t, "sim", "list", "--state", state); code == 0 {
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("'mynahil sim' did not start: %v\n%s", err, p.log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("'mynahil sim' did not answer within a minute:\n%s", p.log)
		}
	}
}

// kill ends the process with SIGKILL, as a crash does, and waits for it.
func (p *simProcess) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// readerStandIn accepts the sim's card on a Go vpcd reader and, as pcscd
// does, notices it leaving and powers it up when it comes back, so that
// office visits complete.
func readerStandIn(t *testing.T) *vpcd.Reader {
	t.Helper()
	r, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if r.Present() {
				_, _ = r.ATR() // a failed check drops the card
				time.Sleep(20 * time.Millisecond)
				continue
			}
			wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
			_ = r.WaitCard(wctx)
			wcancel()
		}
	}()
	t.Cleanup(func() { cancel(); r.Close(); <-done })
	return r
}

// watchWrites returns a channel closed once a state file of the directory
// (an intent record, the registry, the authority or a chip) changes.
func watchWrites(state string) <-chan struct{} {
	stamp := func() map[string]time.Time {
		out := map[string]time.Time{}
		paths, _ := filepath.Glob(filepath.Join(state, "cards", "*.json"))
		for _, p := range append(paths, filepath.Join(state, store.IntentFile), filepath.Join(state, "office.json"), filepath.Join(state, "authority.json")) {
			if fi, err := os.Stat(p); err == nil {
				out[p] = fi.ModTime()
			}
		}
		return out
	}
	before := stamp()
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			now := stamp()
			for p, m := range now {
				if !before[p].Equal(m) {
					return
				}
			}
		}
	}()
	return ch
}

// cliJSON runs a mynahil command with --json and decodes its output.
func cliJSON(t *testing.T, out any, args ...string) (code int, rule string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, append(args, "--json")...)
	if code != 0 {
		var e struct{ Rule string }
		_ = json.Unmarshal([]byte(stdout), &e)
		return code, e.Rule
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("mynahil %v: %v\nstdout %q, stderr %q", args, err, stdout, stderr)
	}
	return 0, ""
}

// checkState checks a restarted sim through the CLI and its files: no
// intent record left, every valid certificate of every card on its chip
// (the sim's own report, and the files read independently), and no
// certificate on a chip that the registry does not name.
func checkState(t *testing.T, what, state string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(state, store.IntentFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s: the intent record is still there", what)
	}
	var now simapi.TimeResult
	if code, _ := cliJSON(t, &now, "office", "time", "--state", state); code != 0 {
		t.Fatalf("%s: office time: exit %d", what, code)
	}
	var cards []simapi.CardSummary
	if code, _ := cliJSON(t, &cards, "office", "cards", "--state", state); code != 0 {
		t.Fatalf("%s: office cards: exit %d", what, code)
	}
	ab, err := os.ReadFile(filepath.Join(state, "authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := authority.Load(ab, clock.NewVirtual(now.Now))
	if err != nil {
		t.Fatalf("%s: authority.json: %v", what, err)
	}
	for _, c := range cards {
		var rep simapi.Report
		if code, _ := cliJSON(t, &rep, "office", "status", "--state", state, "--card", c.ID); code != 0 {
			t.Fatalf("%s: office status %s: exit %d", what, c.ID, code)
		}
		cb, err := os.ReadFile(filepath.Join(state, "cards", c.ID+".json"))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		chip, err := card.Load(cb)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, c.ID, err)
		}
		var onChip [2][]byte
		chip.Inspect(func(st *card.State) {
			for i, ef := range []uint16{jpki.EFAuthCert, jpki.EFSignCert} {
				if f := st.DF(jpki.AID).File(ef); f != nil {
					onChip[i] = f.Data
				}
			}
		})
		for i, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
			cr := rep.Certificate(k, simapi.OnCard)
			if cr.State == "valid" && !cr.OnChip {
				t.Errorf("%s: office status: %s %s certificate #%d valid but not on the chip", what, c.ID, k, cr.Serial)
			}
			if onChip[i] != nil && !bytes.Equal(onChip[i], cr.DER) {
				t.Errorf("%s: %s's chip holds a %s certificate the registry does not name", what, c.ID, k)
			}
		}
		for _, rec := range a.Records(func(r authority.Record) bool { return r.CardID == c.ID && r.Device == authority.OnCard }) {
			i := slices.Index([]authority.Kind{authority.Auth, authority.Sign}, rec.Kind)
			if rec.ValidAt(now.Now) && !bytes.Equal(rec.DER, onChip[i]) {
				t.Errorf("%s: authority.json: %s certificate #%d of %s valid, not on the chip (cards/%s.json)", what, rec.Kind, rec.Serial, c.ID, c.ID)
			}
		}
	}
}

// TestKillDuringOfficeVisits: a real 'mynahil sim' process is killed with
// SIGKILL 24 times at random moments of office visits driven through the
// CLI (issue-cert, revoke, issue-card), then started again: each time it
// starts, the registry and the chips agree, no valid certificate is
// missing from its chip, and retrying the operation works (it succeeds,
// or is refused by the rule that says it is done). The random moments come
// from a seed printed at the start; MYNAHIL_KILL_SEED=N repeats a run.
func TestKillDuringOfficeVisits(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a sim process 24 times")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MYNAHIL_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (MYNAHIL_KILL_SEED=%d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	began := time.Now()
	state, err := os.MkdirTemp("", "kill")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	reader := readerStandIn(t)
	t.Setenv("MYNAHIL_SIGN_PIN", "LATER2026")
	t.Setenv("MYNAHIL_STATE", "")
	sim := startSimProcess(t, state, reader.Addr(), "--clock", "virtual:2026-04-01T10:00:00+09:00")

	counts := map[string]int{}
	var inVisit, early int
	for round := 1; round <= 24; round++ {
		var rep simapi.Report
		if code, _ := cliJSON(t, &rep, "office", "status", "--state", state, "--card", "card-1"); code != 0 {
			t.Fatalf("round %d: office status: exit %d", round, code)
		}
		args := []string{"office", "issue-card", "--state", state}
		if rng.IntN(3) > 0 {
			args = []string{"office", "issue-cert", "--state", state, "--card", "card-1", "--kind", "sign"}
			if rep.Certificate(simapi.Sign, simapi.OnCard).State == "valid" {
				args[1] = "revoke"
			}
		}
		op := args[1]
		counts[op]++
		// A third of the kills land within 4 ms of the first state file
		// written (a write takes about a millisecond here, so they fall
		// among the operation's writes), a third in its first 40 ms, a
		// third anywhere in the visit (the removal time and the reader's
		// power-up).
		mode, delay := rng.IntN(3), time.Duration(0)
		switch mode {
		case 0:
			delay = time.Duration(rng.Int64N(int64(4 * time.Millisecond)))
		case 1:
			delay = time.Duration(rng.Int64N(int64(40 * time.Millisecond)))
		case 2:
			delay = time.Duration(rng.Int64N(int64(900 * time.Millisecond)))
		}
		written := watchWrites(state)
		result := make(chan int, 1)
		start := time.Now()
		go func() {
			code, _, _ := runCLI(t, args...)
			result <- code
		}()
		if mode == 0 {
			select {
			case <-written:
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: %s wrote no state file", round, op)
			}
		}
		time.Sleep(delay)
		sim.kill()
		code := <-result
		if code == 0 {
			early++
		} else {
			inVisit++
		}
		what := fmt.Sprintf("round %d (%s, SIGKILL %v after %s, the command exited %d)", round, op, delay.Round(10*time.Microsecond),
			[]string{"its first state write", "its start", "its start"}[mode], code)
		t.Logf("%s; it ran %v", what, time.Since(start).Round(time.Millisecond))

		sim = startSimProcess(t, state, reader.Addr())
		checkState(t, what, state)
		var out any
		code, rule := cliJSON(t, &out, args...)
		done := map[string]string{"issue-cert": "one-per-kind", "revoke": "no-certificate"}[op]
		if code != 0 && (code != 1 || rule != done) {
			t.Errorf("%s: retrying: exit %d, rule %q", what, code, rule)
		}
		checkState(t, what+", retried", state)
		if t.Failed() {
			t.Fatalf("seed %d: stopping after round %d\n%s", seed, round, sim.log)
		}
	}
	t.Logf("24 kills (%v: %d before the command had its answer, %d after) in %v", counts, inVisit, early, time.Since(began).Round(time.Millisecond))
	if !strings.Contains(sim.log.String(), "simulator running") {
		t.Errorf("the last sim's log:\n%s", sim.log)
	}
}
