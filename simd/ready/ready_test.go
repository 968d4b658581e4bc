package ready

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simd"
)

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// shortDir is a temporary state directory whose control socket path fits
// the unix socket limit.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "rdy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startSim runs a daemon of a fresh state directory until the test ends.
func startSim(t *testing.T, cfg simd.Config) string {
	t.Helper()
	cfg.StateDir = shortDir(t)
	cfg.Logger = quiet()
	cfg.Backoff = 20 * time.Millisecond
	d, err := simd.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// Let the sim issue its card and answer once, so that the short waits
	// of the tests measure readiness, not start-up.
	addr := control.DefaultAddr(cfg.StateDir)
	c, err := simapi.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.List(cctx); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestWaitThroughPCSCD: called before the sim starts, Wait returns once
// pcscd shows the card in its reader with its ATR; at that moment a PC/SC
// client sees the card (no retry needed).
func TestWaitThroughPCSCD(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd")
	}
	pcscdenv.Require(t)
	const slot = 1
	reader := simd.ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	state := shortDir(t)
	addr := control.DefaultAddr(state)
	type result struct {
		cards []simd.SlotInfo
		err   error
	}
	got := make(chan result, 1)
	go func() {
		cards, err := Wait(ctx, Config{Control: addr})
		got <- result{cards, err}
	}()

	d, err := simd.Open(simd.Config{StateDir: state, FirstSlot: slot, Logger: quiet(), Backoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		<-done
		_ = pcscdenv.WaitState(context.Background(), reader, false)
	}()

	r := <-got
	if r.err != nil {
		t.Fatalf("Wait: %v", r.err)
	}
	if len(r.cards) != 1 || r.cards[0].Reader != reader || !r.cards[0].Connected {
		t.Fatalf("Wait returned %+v, want the one card connected in %q", r.cards, reader)
	}
	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rs, err := pc.Readers()
	if err != nil {
		t.Fatal(err)
	}
	for _, ri := range rs {
		if ri.Name == reader {
			if !ri.Present() || ri.ATRHex() != r.cards[0].ATR {
				t.Fatalf("right after Wait pcscd shows %q as %s with ATR %q, want present with %q", reader, ri.StateString(), ri.ATRHex(), r.cards[0].ATR)
			}
			return
		}
	}
	t.Fatalf("right after Wait pcscd has no reader %q", reader)
}

// TestWaitNamesWhatIsMissing: each missing piece keeps Wait waiting until
// its deadline and is named in the error.
func TestWaitNamesWhatIsMissing(t *testing.T) {
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Second)
	}
	t.Run("no sim", func(t *testing.T) {
		ctx, cancel := short()
		defer cancel()
		addr := "unix:" + filepath.Join(shortDir(t), "control.sock")
		_, err := Wait(ctx, Config{Control: addr})
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "no sim answers on "+addr) {
			t.Fatalf("Wait = %v, want not ready naming %s", err, addr)
		}
	})
	t.Run("vpcd not listening", func(t *testing.T) {
		// A port nobody listens on: the card never connects.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		free := l.Addr().String()
		l.Close()
		addr := startSim(t, simd.Config{VPCD: free})
		ctx, cancel := short()
		defer cancel()
		_, err = Wait(ctx, Config{Control: addr, SkipPCSC: true})
		if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "not connected to vpcd") {
			t.Fatalf("Wait = %v, want not ready: not connected to vpcd", err)
		}
	})
	t.Run("connected but pcscd does not show it", func(t *testing.T) {
		// A stand-in vpcd that accepts the card but is no pcscd reader.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		host, port, _ := net.SplitHostPort(l.Addr().String())
		p, _ := strconv.Atoi(port)
		// slot 9: no pcscd reader of that name exists.
		addr := startSim(t, simd.Config{VPCD: net.JoinHostPort(host, strconv.Itoa(p-9)), FirstSlot: 9})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := Wait(ctx, Config{Control: addr, SkipPCSC: true}); err != nil {
			t.Fatalf("Wait without pcscd: %v, want ready once connected to the stand-in", err)
		}
		ctx, cancel = short()
		defer cancel()
		_, err = Wait(ctx, Config{Control: addr})
		if !errors.Is(err, ErrNotReady) || !(strings.Contains(err.Error(), "pcscd does not show card") || strings.Contains(err.Error(), "pcscd:")) {
			t.Fatalf("Wait = %v, want not ready: pcscd does not show the card", err)
		}
	})
}

// TestWaitReadsTheTokenAnew: on a TCP control address a wait begun before
// the sim wrote its token (or with an old one in the state directory)
// keeps waiting, naming the refused token, and ends once the right token
// is there.
func TestWaitReadsTheTokenAnew(t *testing.T) {
	vpcd := standInVPCD(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctl := "tcp:" + l.Addr().String()
	l.Close()
	simState := shortDir(t)
	d, err := simd.Open(simd.Config{StateDir: simState, Control: ctl, VPCD: vpcd, Logger: quiet(), Backoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	t.Setenv(control.TokenEnv, "")
	waitState := shortDir(t) // where the waiter reads the token: an old one first
	if err := os.WriteFile(control.TokenFile(waitState), []byte("00"), 0o600); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = Wait(short, Config{Control: ctl, StateDir: waitState, SkipPCSC: true})
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "refused the token") {
		t.Fatalf("Wait with an old token = %v, want not ready: refused the token (and still waiting)", err)
	}
	tok, err := os.ReadFile(control.TokenFile(simState))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(control.TokenFile(waitState), tok, 0o600); err != nil {
		t.Fatal(err)
	}
	long, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if _, err := Wait(long, Config{Control: ctl, StateDir: waitState, SkipPCSC: true}); err != nil {
		t.Fatalf("Wait with the sim's token: %v", err)
	}
}

// standInVPCD accepts the cards' connections like vpcd, without pcscd.
func standInVPCD(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}
