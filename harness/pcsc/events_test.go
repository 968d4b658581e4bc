package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/vpcd"
)

// withEchoCard starts (or reuses) pcscd with vpcd and serves vpcd.EchoCard
// on slot 0; slot 1 stays empty.
func withEchoCard(t *testing.T) (present, empty string) {
	t.Helper()
	pcscdenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := vpcdslot.Attach(ctx, vpcd.EchoCard{}, 0)
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

func newContext(t *testing.T) *pcsc.Context {
	t.Helper()
	c, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// checkStates asserts what pcscd reports for the two vpcd readers, in
// whichever order rs names them: a card with EchoATR in present, nothing
// in empty.
func checkStates(rs []pcsc.ReaderState, present string) error {
	for _, r := range rs {
		f := r.EventState
		switch {
		case r.Reader == present && (f&pcsc.StatePresent == 0 || f&pcsc.StateMute != 0):
			return fmt.Errorf("%s: state %#x, want present and not mute", r.Reader, uint32(f))
		case r.Reader == present && !bytes.Equal(r.ATR, vpcd.EchoATR):
			return fmt.Errorf("%s: ATR % X, want % X", r.Reader, r.ATR, vpcd.EchoATR)
		case r.Reader != present && (f&pcsc.StateEmpty == 0 || f&pcsc.StatePresent != 0):
			return fmt.Errorf("%s: state %#x, want empty", r.Reader, uint32(f))
		case r.Reader != present && len(r.ATR) > 0:
			return fmt.Errorf("%s: ATR % X, want none", r.Reader, r.ATR)
		}
	}
	return nil
}

func TestGetStatusChange(t *testing.T) {
	present, empty := withEchoCard(t)
	c := newContext(t)

	rs := []pcsc.ReaderState{{Reader: present, CurrentState: pcsc.StateUnaware}, {Reader: empty, CurrentState: pcsc.StateUnaware}}
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	if err := checkStates(rs, present); err != nil {
		t.Fatal(err)
	}

	// Told the state it has, pcscd has nothing to report: the wait times out.
	for i := range rs {
		rs[i].CurrentState = rs[i].EventState &^ pcsc.StateChanged
	}
	if err := c.GetStatusChange(rs, 50*time.Millisecond); !errors.Is(err, pcsc.ErrTimeout) {
		t.Fatalf("waiting with the current state: %v, want %v", err, pcsc.ErrTimeout)
	}

	unknown := []pcsc.ReaderState{{Reader: "No Such Reader 00 00", CurrentState: pcsc.StateUnaware}}
	if err := c.GetStatusChange(unknown, 0); !errors.Is(err, pcsc.ErrReaderNotFound) {
		t.Fatalf("unknown reader: %v, want %v", err, pcsc.ErrReaderNotFound)
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

func TestCancelAndClose(t *testing.T) {
	present, _ := withEchoCard(t)
	c := newContext(t)
	rs := []pcsc.ReaderState{{Reader: present, CurrentState: pcsc.StateUnaware}}
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	wait := func() <-chan error {
		done := make(chan error, 1)
		w := []pcsc.ReaderState{{Reader: present, CurrentState: rs[0].EventState &^ pcsc.StateChanged}}
		go func() { done <- c.GetStatusChange(w, -1) }()
		return done
	}

	if err := cancelUntilDone(t, c.Cancel, wait()); !errors.Is(err, pcsc.ErrCancelled) {
		t.Fatalf("cancelled wait: %v, want %v", err, pcsc.ErrCancelled)
	}
	// The context stays usable after a cancel.
	if err := c.GetStatusChange(rs, 0); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}

	if err := cancelUntilDone(t, c.Close, wait()); !errors.Is(err, pcsc.ErrCancelled) && !errors.Is(err, pcsc.ErrClosed) {
		t.Fatalf("wait during Close: %v, want %v", err, pcsc.ErrCancelled)
	}
	if err := c.GetStatusChange(rs, 0); !errors.Is(err, pcsc.ErrClosed) {
		t.Fatalf("after Close: %v, want %v", err, pcsc.ErrClosed)
	}
	if err := c.Cancel(); !errors.Is(err, pcsc.ErrClosed) {
		t.Fatalf("Cancel after Close: %v, want %v", err, pcsc.ErrClosed)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Close right after a wait was started, many times: the wait may not have
// taken the context yet, may hold it without having reached pcscd (where
// one SCardCancel would come too early and Close would wait for ever
// behind a wait without end), or may be waiting. Each time Close returns
// and the wait ends cancelled or refused.
func TestCloseRacesAWait(t *testing.T) {
	present, _ := withEchoCard(t)
	first := newContext(t)
	rs := []pcsc.ReaderState{{Reader: present, CurrentState: pcsc.StateUnaware}}
	if err := first.GetStatusChange(rs, 0); err != nil {
		t.Fatal(err)
	}
	current := rs[0].EventState &^ pcsc.StateChanged
	outcomes := map[string]int{}
	for i := range 200 {
		c, err := pcsc.Establish()
		if err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() {
			waited <- c.GetStatusChange([]pcsc.ReaderState{{Reader: present, CurrentState: current}}, -1)
		}()
		closed := make(chan error, 1)
		go func() { closed <- c.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("close %d: %v", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("close %d did not return within 30 s: it waits behind a wait it failed to cancel", i)
		}
		err = <-waited
		switch {
		case errors.Is(err, pcsc.ErrCancelled):
			outcomes["cancelled"]++
		case errors.Is(err, pcsc.ErrClosed):
			outcomes["refused"]++
		default:
			t.Fatalf("wait %d: %v, want %v or %v", i, err, pcsc.ErrCancelled, pcsc.ErrClosed)
		}
	}
	t.Logf("waits cancelled or refused: %v", outcomes)
}

// Many goroutines read reader states at once, each on a context of its
// own and several on one shared context, and each asks for the readers in
// another order: the calls share no memory, so nothing races (make test
// runs this package with -race) and every answer is about the reader
// asked for. A binding that keeps anything of a call in memory shared
// between calls (github.com/ebfe/scard's package-level map of reader
// names, one C buffer for all calls) fails here.
func TestConcurrentWaits(t *testing.T) {
	present, empty := withEchoCard(t)
	shared := newContext(t)
	const goroutines, calls = 8, 300
	var wg sync.WaitGroup
	errs := make(chan error, 2*goroutines)
	for g := range 2 * goroutines {
		c := shared
		if g < goroutines {
			c = newContext(t)
		}
		order := []string{present, empty}
		if g%2 == 1 {
			order = []string{empty, present}
		}
		wg.Go(func() {
			for i := range calls {
				rs := []pcsc.ReaderState{{Reader: order[0], CurrentState: pcsc.StateUnaware}, {Reader: order[1], CurrentState: pcsc.StateUnaware}}
				if err := c.GetStatusChange(rs, 0); err != nil {
					errs <- fmt.Errorf("goroutine %d, call %d: %w", g, i, err)
					return
				}
				if err := checkStates(rs, present); err != nil {
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
