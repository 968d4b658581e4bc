package readerstate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/mynahil/mynahil/harness/readerstate"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd"
)

// withEchoCard starts (or reuses) pcscd with vpcd and serves vpcd.EchoCard
// on slot 0; slot 1 stays empty.
func withEchoCard(t *testing.T) (present, empty string) {
	t.Helper()
	pcscdenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := pcscdenv.Attach(ctx, vpcd.EchoCard{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Detach(ctx); err != nil {
			t.Error(err)
		}
	})
	return pcscdenv.VPCDReader0, pcscdenv.VPCDReader1
}

func establish(t *testing.T) *readerstate.Context {
	t.Helper()
	c, err := readerstate.Establish()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Release() })
	return c
}

// checkStates asserts what pcscd reports for the two vpcd readers: a card
// with EchoATR in present, nothing in empty.
func checkStates(rs []scard.ReaderState) error {
	if f := rs[0].EventState; f&scard.StatePresent == 0 || f&scard.StateMute != 0 {
		return fmt.Errorf("%s: state %#x, want present and not mute", rs[0].Reader, uint32(f))
	}
	if !bytes.Equal(rs[0].Atr, vpcd.EchoATR) {
		return fmt.Errorf("%s: ATR % X, want % X", rs[0].Reader, rs[0].Atr, vpcd.EchoATR)
	}
	if f := rs[1].EventState; f&scard.StateEmpty == 0 || f&scard.StatePresent != 0 {
		return fmt.Errorf("%s: state %#x, want empty", rs[1].Reader, uint32(f))
	}
	return nil
}

func TestStates(t *testing.T) {
	present, empty := withEchoCard(t)
	c := establish(t)

	rs := []scard.ReaderState{{Reader: present, CurrentState: scard.StateUnaware}, {Reader: empty, CurrentState: scard.StateUnaware}}
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	if err := checkStates(rs); err != nil {
		t.Fatal(err)
	}

	// Told the state it has, pcscd has nothing to report: the wait times out.
	for i := range rs {
		rs[i].CurrentState = rs[i].EventState &^ scard.StateChanged
	}
	if err := c.GetStatusChange(rs, 50*time.Millisecond); !errors.Is(err, scard.ErrTimeout) {
		t.Fatalf("waiting with the current state: %v, want %v", err, scard.ErrTimeout)
	}

	unknown := []scard.ReaderState{{Reader: "No Such Reader 00 00", CurrentState: scard.StateUnaware}}
	if err := c.GetStatusChange(unknown, 0); !errors.Is(err, scard.ErrUnknownReader) {
		t.Fatalf("unknown reader: %v, want %v", err, scard.ErrUnknownReader)
	}
	if err := c.GetStatusChange(nil, 0); err != nil {
		t.Fatalf("no readers: %v", err)
	}
}

// cancelUntilDone calls cancel until done is closed: SCardCancel before
// the wait has started is a no-op, so one call could come too early.
func cancelUntilDone(t *testing.T, cancel func() error, done <-chan error) error {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			_ = cancel()
		case <-deadline:
			t.Fatal("the wait did not end within 30 s of SCardCancel")
		}
	}
}

func TestCancelAndRelease(t *testing.T) {
	present, _ := withEchoCard(t)
	c := establish(t)
	rs := []scard.ReaderState{{Reader: present, CurrentState: scard.StateUnaware}}
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	wait := func() <-chan error {
		done := make(chan error, 1)
		w := []scard.ReaderState{{Reader: present, CurrentState: rs[0].EventState &^ scard.StateChanged}}
		go func() { done <- c.GetStatusChange(w, -1) }()
		return done
	}

	if err := cancelUntilDone(t, c.Cancel, wait()); !errors.Is(err, scard.ErrCancelled) {
		t.Fatalf("cancelled wait: %v, want %v", err, scard.ErrCancelled)
	}
	// The context stays usable after a cancel.
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}

	release := func() error { return c.Release() }
	if err := cancelUntilDone(t, release, wait()); !errors.Is(err, scard.ErrCancelled) && !errors.Is(err, readerstate.ErrReleased) {
		t.Fatalf("wait during Release: %v, want %v", err, scard.ErrCancelled)
	}
	if err := c.GetStatusChange(rs, 0); !errors.Is(err, readerstate.ErrReleased) {
		t.Fatalf("after Release: %v, want %v", err, readerstate.ErrReleased)
	}
	if err := c.Cancel(); !errors.Is(err, readerstate.ErrReleased) {
		t.Fatalf("Cancel after Release: %v, want %v", err, readerstate.ErrReleased)
	}
	if err := c.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
}

// Release right after a wait was started, many times: the wait may not
// have taken the context yet, may hold it without having reached pcscd
// (where one SCardCancel would come too early and Release would wait for
// ever behind a wait without end), or may be waiting. Each time Release
// returns and the wait ends cancelled or refused.
func TestReleaseRacesAWait(t *testing.T) {
	present, _ := withEchoCard(t)
	first := establish(t)
	rs := []scard.ReaderState{{Reader: present, CurrentState: scard.StateUnaware}}
	if err := first.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	current := rs[0].EventState &^ scard.StateChanged
	outcomes := map[string]int{}
	for i := range 200 {
		c, err := readerstate.Establish()
		if err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() {
			waited <- c.GetStatusChange([]scard.ReaderState{{Reader: present, CurrentState: current}}, -1)
		}()
		released := make(chan error, 1)
		go func() { released <- c.Release() }()
		select {
		case err := <-released:
			if err != nil {
				t.Fatalf("release %d: %v", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("release %d did not return within 30 s: it waits behind a wait it failed to cancel", i)
		}
		err = <-waited
		switch {
		case errors.Is(err, scard.ErrCancelled):
			outcomes["cancelled"]++
		case errors.Is(err, readerstate.ErrReleased):
			outcomes["refused"]++
		default:
			t.Fatalf("wait %d: %v, want %v or %v", i, err, scard.ErrCancelled, readerstate.ErrReleased)
		}
	}
	t.Logf("waits cancelled or refused: %v", outcomes)
}

// Many goroutines read reader states at once, each on a context of its
// own and several on one shared context: the calls share no memory, so
// nothing races (go test -race) and every answer is right.
// github.com/ebfe/scard's GetStatusChange, called this way, writes one
// package-level map from every goroutine and the runtime stops the
// process.
func TestConcurrentCalls(t *testing.T) {
	present, empty := withEchoCard(t)
	shared := establish(t)
	const goroutines, calls = 8, 300
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range 2 * goroutines {
		c := shared
		if g < goroutines {
			c = establish(t)
		}
		wg.Go(func() {
			for i := range calls {
				rs := []scard.ReaderState{{Reader: present, CurrentState: scard.StateUnaware}, {Reader: empty, CurrentState: scard.StateUnaware}}
				if err := c.GetStatusChange(rs, 0); err != nil {
					errs <- fmt.Errorf("goroutine %d, call %d: %w", g, i, err)
					return
				}
				if err := checkStates(rs); err != nil {
					errs <- fmt.Errorf("goroutine %d, call %d: %w", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
