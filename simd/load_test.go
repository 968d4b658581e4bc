package simd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/profile"
)

// loadSize is the APDUs per PC/SC context of TestOfficeUnderLoad:
// MYNAHIL_LOAD_APDUS (2000 is the size of issue 9's measurement, 'make
// load-pcscd'), else 500 to keep 'make test' short, 200 with -short.
func loadSize(t *testing.T) int {
	if s := os.Getenv("MYNAHIL_LOAD_APDUS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			t.Fatalf("MYNAHIL_LOAD_APDUS=%q: want a number ≥ 10", s)
		}
		return n
	}
	if testing.Short() {
		return 200
	}
	return 500
}

// step is one command of a worker's transaction and the status word the
// card must answer.
type step struct {
	name string
	cmd  []byte
	want uint16
}

// transaction needs the volatile state the office's changes reset: the
// applet selected, the EF selected, the auth PIN verified. Had the office
// changed the card under the session, the answers would be 6A82 (EF not
// found without the applet), 6986 (no current EF) or 6982 (PIN not
// verified).
func transaction(pin string) []step {
	digestInfo := hexb("3031300d060960864801650304020105000420" +
		"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	sign := append(append([]byte{0x80, 0x2A, 0x00, 0x80, byte(len(digestInfo))}, digestInfo...), 0x00)
	return []step{
		{"SELECT JPKI", selectJPKI, 0x9000},
		{"SELECT auth PIN", selectAuthPIN, 0x9000},
		{"VERIFY auth PIN", verify(pin), 0x9000},
		{"SELECT auth key", hexb("00A4020C020017"), 0x9000},
		{"SIGN", sign, 0x9000},
		{"SELECT auth cert", selectAuthCrt, 0x9000},
		{"READ BINARY", hexb("00B0000004"), 0x9000},
	}
}

// handled reports whether err is what a PC/SC client sees when the card
// leaves or is reset under it, and handles by connecting again.
func handled(err error) bool {
	return errors.Is(err, pcsc.ErrCardRemoved) || errors.Is(err, pcsc.ErrCardReset) ||
		errors.Is(err, pcsc.ErrNoCard) || errors.Is(err, pcsc.ErrCardMute) ||
		errors.Is(err, pcsc.ErrNotTransacted)
}

// TestOfficeUnderLoad is issue 9's measurement through the real pcscd: 4
// PC/SC contexts send loadSize APDUs each, in transactions of
// transaction(), while the office re-sets the card's PINs beside them.
// Every answer must be the right status word, or a removal/reset error
// after which the client connects again: 0 wrong answers. Each context
// goes on until it has loadSize answers.
func TestOfficeUnderLoad(t *testing.T) {
	pcscdenv.Require(t)
	const slot, workers = 1, 4
	reader := ReaderName(slot)
	n := loadSize(t)
	visits := 6
	if n < 1000 {
		visits = 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	d, err := Open(Config{StateDir: shortTempDir(t), FirstSlot: slot, Backoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("card never appeared in %q: %v", reader, err)
	}
	c, err := simapi.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	pins := profile.Default().PINs
	steps := transaction(pins.Auth)
	var (
		sent     atomic.Int64
		answered atomic.Int64
		mu       sync.Mutex
		wrong    []string
		errs     = map[string]int{}
	)
	worker := func(id int) error {
		pc, err := pcsc.Establish()
		if err != nil {
			return err
		}
		defer pc.Close()
		var card *pcsc.Card
		defer func() {
			if card != nil {
				card.Close()
			}
		}()
		drop := func(err error) error {
			if !handled(err) {
				return fmt.Errorf("worker %d: %w", id, err)
			}
			mu.Lock()
			errs[errName(err)]++
			mu.Unlock()
			card.Disconnect(pcsc.LeaveCard)
			card = nil
			// The card is leaving: wait until pcscd says so (or a
			// poll's worth, if it has already come back) rather than
			// hammer an empty slot.
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			_, _ = pc.WaitRemoved(wctx, reader)
			return nil
		}
		for count := 0; count < n; {
			if card == nil {
				if _, err := pc.WaitCard(ctx, reader); err != nil {
					return fmt.Errorf("worker %d: waiting for the card: %w", id, err)
				}
				if card, err = pc.Connect(reader, pcsc.Shared); err != nil {
					if handled(err) {
						card = nil
						continue
					}
					return fmt.Errorf("worker %d: connecting: %w", id, err)
				}
			}
			if err := card.Begin(); err != nil {
				if err := drop(err); err != nil {
					return err
				}
				continue
			}
			ok := true
			for _, s := range steps {
				sent.Add(1)
				resp, err := card.Transmit(s.cmd)
				if err != nil {
					if err := drop(err); err != nil {
						return err
					}
					ok = false
					break
				}
				answered.Add(1)
				count++
				if got := sw(resp); got != s.want {
					mu.Lock()
					wrong = append(wrong, fmt.Sprintf("worker %d, %s: SW %04X, want %04X", id, s.name, got, s.want))
					mu.Unlock()
				}
			}
			if ok {
				if err := card.End(pcsc.LeaveCard); err != nil {
					if err := drop(err); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}

	total := int64(workers * n)
	var officeTimes []time.Duration
	officeDone := make(chan error, 1)
	go func() {
		for i := 1; i <= visits; i++ {
			for answered.Load() < total*int64(i)/int64(visits+1) {
				if ctx.Err() != nil {
					officeDone <- ctx.Err()
					return
				}
				time.Sleep(time.Millisecond)
			}
			kind, pin := authority.Auth, pins.Auth
			if i%2 == 0 {
				kind, pin = authority.Sign, pins.Sign
			}
			start := time.Now()
			if _, err := c.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Kind(kind), PIN: pin}); err != nil {
				officeDone <- fmt.Errorf("office visit %d: %w", i, err)
				return
			}
			officeTimes = append(officeTimes, time.Since(start))
		}
		officeDone <- nil
	}()

	start := time.Now()
	var wg sync.WaitGroup
	werrs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werrs[i] = worker(i)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := <-officeDone; err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(werrs...); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d contexts × %d APDUs in %v: %d answered, %d ended by a removal or reset %v, %d office visits taking %v",
		workers, n, elapsed.Round(time.Millisecond), answered.Load(), sent.Load()-answered.Load(), errs, len(officeTimes), roundAll(officeTimes))
	if len(wrong) > 0 {
		t.Errorf("%d wrong answers of %d (%.2f%%), first: %v", len(wrong), answered.Load(),
			100*float64(len(wrong))/float64(answered.Load()), wrong[:min(len(wrong), 10)])
	}
	if len(errs) == 0 {
		t.Errorf("no client saw the card leave during %d office visits", visits)
	}
}

func errName(err error) string {
	for _, e := range []error{pcsc.ErrCardRemoved, pcsc.ErrCardReset, pcsc.ErrNoCard, pcsc.ErrCardMute, pcsc.ErrNotTransacted} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return err.Error()
}

func roundAll(ds []time.Duration) []time.Duration {
	out := slices.Clone(ds)
	for i := range out {
		out[i] = out[i].Round(time.Millisecond)
	}
	return out
}

// TestPCSCDNoticesRemovalAndInsertion measures what pcscd's polling adds to
// every office visit: the time from the card side closing (sim.remove) or
// opening (sim.insert) its vpcd connection until a PC/SC application sees
// the slot empty or filled, over several cycles, and then a whole office
// visit (reset-pin) as an application waiting on the reader sees it. The
// figures are logged; the test fails only if pcscd misses a change.
func TestPCSCDNoticesRemovalAndInsertion(t *testing.T) {
	pcscdenv.Require(t)
	const slot, cycles = 1, 5
	reader := ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	d, err := Open(Config{StateDir: shortTempDir(t), FirstSlot: slot, Backoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("card never appeared in %q: %v", reader, err)
	}
	s := slot
	var removals, insertions []time.Duration
	for range cycles {
		start := time.Now()
		if _, err := d.Remove(Selector{Slot: &s}); err != nil {
			t.Fatal(err)
		}
		if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
			t.Fatalf("pcscd did not see the removal: %v", err)
		}
		removals = append(removals, time.Since(start))
		start = time.Now()
		if _, err := d.Insert(Selector{Slot: &s}); err != nil {
			t.Fatal(err)
		}
		if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
			t.Fatalf("pcscd did not see the insertion: %v", err)
		}
		insertions = append(insertions, time.Since(start))
	}
	t.Logf("pcscd notices a removal after %s and an insertion after %s (median [min–max] of %d)",
		spread(removals), spread(insertions), cycles)

	c, err := simapi.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	visit := make(chan error, 1)
	go func() {
		_, err := c.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Auth, PIN: profile.Default().PINs.Auth})
		visit <- err
	}()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("pcscd did not see the office take the card out: %v", err)
	}
	out := time.Since(start)
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("pcscd did not see the office put the card back: %v", err)
	}
	back := time.Since(start)
	if err := <-visit; err != nil {
		t.Fatal(err)
	}
	t.Logf("office visit (reset-pin): card seen out after %v, back after %v (removal time %v)",
		out.Round(time.Millisecond), back.Round(time.Millisecond), DefaultRemovalTime)
}

// spread renders durations as "median [min–max]".
func spread(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("%v [%v–%v]", r(s[len(s)/2]), r(s[0]), r(s[len(s)-1]))
}
