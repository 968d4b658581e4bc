package vpcd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// transport is the harness's Transport contract; the Reader must satisfy it
// structurally.
type transport interface {
	Transmit(command []byte) (response []byte, err error)
	ATR() ([]byte, error)
	Reset() error
	Close() error
}

var _ transport = (*Reader)(nil)

// Interface satisfaction the rest of the tree relies on.
var _ Card = EchoCard{}

func TestRoundTrip(t *testing.T) {
	r := listenReader(t)
	startCardSide(t, EchoCard{EchoData: true}, WithAddr(r.Addr()))
	waitCard(t, r)

	atr, err := r.ATR()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(EchoATR, atr); diff != "" {
		t.Errorf("ATR (-want +got):\n%s", diff)
	}
	for _, n := range []int{2, 4, 5, 261, 4096, MaxPayload - 2} {
		cmd := bytes.Repeat([]byte{0xA5}, n)
		resp, err := r.Transmit(cmd)
		if err != nil {
			t.Fatalf("Transmit(%d bytes): %v", n, err)
		}
		if want := append(cmd, 0x90, 0x00); !bytes.Equal(resp, want) {
			t.Fatalf("Transmit(%d bytes): got %d-byte response, want echo + 9000", n, len(resp))
		}
	}
	if err := r.Reset(); err != nil {
		t.Errorf("Reset: %v", err)
	}
	if err := r.PowerOff(); err != nil {
		t.Errorf("PowerOff: %v", err)
	}
	if err := r.PowerOn(); err != nil {
		t.Errorf("PowerOn: %v", err)
	}
}

func TestReaderRefusesBadCommands(t *testing.T) {
	r := listenReader(t)
	startCardSide(t, EchoCard{}, WithAddr(r.Addr()))
	waitCard(t, r)
	for _, n := range []int{0, 1, MaxPayload + 1} {
		if _, err := r.Transmit(make([]byte, n)); err == nil {
			t.Errorf("Transmit(%d bytes) succeeded; 1-byte commands are control codes and vpcd frames at most 65535", n)
		}
	}
	if _, err := r.Transmit([]byte{0, 0xA4, 0, 0}); err != nil {
		t.Errorf("the card must still be usable after refused commands: %v", err)
	}
}

// The card side must not answer 00/01/02 (docs/vpcd-pcscd.md §3.1): the next
// frame it sends has to be the ATR answering GET_ATR.
func TestControlCodesGetNoReply(t *testing.T) {
	for _, tt := range []struct {
		name   string
		frames [][]byte // each written separately
		want   []string
	}{
		{"power off", [][]byte{{0, 1, 0}}, []string{"PowerOff"}},
		{"power on", [][]byte{{0, 1, 1}}, []string{"PowerOn"}},
		{"reset", [][]byte{{0, 1, 2}}, []string{"Reset"}},
		{"pcscd power cycle", [][]byte{{0, 1, 0}, {0, 1, 1}, {0, 1, 2}}, []string{"PowerOff", "PowerOn", "Reset"}},
		// Issue #253: reset + GET_ATR batched in one segment.
		{"batched in one segment", [][]byte{{0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 1, 0, 0, 1, 1}}, []string{"PowerOff", "PowerOn", "Reset", "PowerOff", "PowerOn"}},
		{"get ATR alone", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newRawDriver(t)
			card := &recordingCard{}
			startCardSide(t, card, WithAddr(d.addr()))
			c := d.accept()
			for _, f := range tt.frames {
				write(t, c, f...)
			}
			if err := WriteFrame(c, []byte{CtrlGetATR}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(EchoATR, readFrame(t, c)); diff != "" {
				t.Fatalf("first frame after control codes is not the ATR (-want +got):\n%s", diff)
			}
			// GET_ATR reads the ATR and changes nothing.
			if diff := cmp.Diff(append(tt.want, "ATR"), card.Calls()); diff != "" {
				t.Errorf("card calls (-want +got):\n%s", diff)
			}
		})
	}
}

// Malformed input ends the connection cleanly; the card side then
// reconnects and serves normally (docs/vpcd-pcscd.md §5.3).
func TestCardSideMalformedInput(t *testing.T) {
	for _, tt := range []struct {
		name       string
		bytes      []byte
		hangUp     bool // the driver vanishes after writing
		cardCloses bool // the card side must close by itself
	}{
		{name: "zero-length frame", bytes: []byte{0, 0}, cardCloses: true},
		{name: "unknown control code 03", bytes: []byte{0, 1, 3}, cardCloses: true},
		{name: "unknown control code FF", bytes: []byte{0, 1, 0xFF}, cardCloses: true},
		{name: "half a header, then gone", bytes: []byte{0}, hangUp: true},
		{name: "short body, then gone", bytes: []byte{0, 5, 0, 0xA4}, hangUp: true},
		{name: "max length, short body, then gone", bytes: []byte{0xFF, 0xFF, 0, 0xA4, 4, 0}, hangUp: true},
		{name: "gone without a word", hangUp: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newRawDriver(t)
			card := &recordingCard{}
			startCardSide(t, card, WithAddr(d.addr()))
			c := d.accept()
			if len(tt.bytes) > 0 {
				write(t, c, tt.bytes...)
			}
			if tt.cardCloses {
				expectClosed(t, c)
			}
			if tt.hangUp {
				_ = c.Close()
			}
			c2 := d.accept()
			write(t, c2, 0, 1, CtrlGetATR)
			if diff := cmp.Diff(EchoATR, readFrame(t, c2)); diff != "" {
				t.Errorf("reconnected card answers GET_ATR wrongly (-want +got):\n%s", diff)
			}
		})
	}
}

// A response that cannot be framed is refused with 6F00, not truncated,
// and the connection survives (docs/vpcd-pcscd.md §2).
func TestCardSideRefusesUnframableResponses(t *testing.T) {
	for _, n := range []int{0, 1, MaxPayload + 1, 70000} {
		card := &recordingCard{resp: bytes.Repeat([]byte{0x61}, n)}
		if n == 0 {
			card.resp = []byte{}
		}
		r := listenReader(t)
		startCardSide(t, card, WithAddr(r.Addr()))
		waitCard(t, r)
		resp, err := r.Transmit([]byte{0, 0xB0, 0, 0, 0})
		if err != nil {
			t.Fatalf("%d-byte response: %v", n, err)
		}
		if diff := cmp.Diff([]byte{0x6F, 0x00}, resp); diff != "" {
			t.Errorf("%d-byte response (-want +got):\n%s", n, diff)
		}
		if _, err := r.ATR(); err != nil {
			t.Errorf("%d-byte response: connection did not survive: %v", n, err)
		}
	}
}

// An empty ATR would hang vpcd (docs/vpcd-pcscd.md §4): the card side leaves
// instead of sending a zero-length frame.
func TestCardSideNeverSendsEmptyATR(t *testing.T) {
	d := newRawDriver(t)
	startCardSide(t, &recordingCard{atr: []byte{}}, WithAddr(d.addr()))
	c := d.accept()
	write(t, c, 0, 1, CtrlGetATR)
	expectClosed(t, c)
}

func TestReaderCardVanishesMidFrame(t *testing.T) {
	r := listenReader(t)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- r.WaitCard(ctx)
	}()
	c, err := net.Dial("tcp4", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := readFrame(t, c); !bytes.Equal(got, []byte{CtrlGetATR}) {
		t.Fatalf("first frame from reader = % X, want GET_ATR", got)
	}
	write(t, c, 0, 11, 0x3B, 0x95, 0x13) // 11 bytes announced, 3 sent
	_ = c.Close()
	err = <-done
	if !errors.Is(err, ErrCardRemoved) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("WaitCard error = %v, want ErrCardRemoved wrapping io.ErrUnexpectedEOF", err)
	}
	if r.Present() {
		t.Error("reader still reports a card")
	}
	if _, err := r.Transmit([]byte{0, 0xA4, 0, 0}); !errors.Is(err, ErrNoCard) {
		t.Errorf("Transmit after removal: err = %v, want ErrNoCard", err)
	}
}

func TestReaderRejectsEmptyReply(t *testing.T) {
	r := listenReader(t)
	done := make(chan error, 1)
	go func() { done <- r.WaitCard(context.Background()) }()
	c, err := net.Dial("tcp4", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	readFrame(t, c)
	write(t, c, 0, 0)
	if err := <-done; !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrEmptyFrame) {
		t.Fatalf("WaitCard error = %v, want ErrProtocol wrapping ErrEmptyFrame", err)
	}
	expectClosed(t, c)
}

func TestFaults(t *testing.T) {
	apdu := []byte{0, 0xA4, 4, 0x0C, 2, 0x3F, 0}
	t.Run("cut response", func(t *testing.T) {
		r := listenReader(t)
		startCardSide(t, EchoCard{EchoData: true}, WithAddr(r.Addr()), WithFaults(Faults{Reply: CutResponse(3)}))
		waitCard(t, r)
		if _, err := r.Transmit(apdu); !errors.Is(err, ErrCardRemoved) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want ErrCardRemoved wrapping io.ErrUnexpectedEOF", err)
		}
		waitCard(t, r) // the card side comes back by itself
	})
	t.Run("corrupt SW", func(t *testing.T) {
		r := listenReader(t)
		startCardSide(t, EchoCard{}, WithAddr(r.Addr()), WithFaults(Faults{Reply: CorruptSW(0x6A82)}))
		waitCard(t, r)
		resp, err := r.Transmit(apdu)
		if err != nil || !bytes.Equal(resp, []byte{0x6A, 0x82}) {
			t.Fatalf("got % X, %v; want 6A82", resp, err)
		}
	})
	t.Run("vanish mid-APDU", func(t *testing.T) {
		r := listenReader(t)
		startCardSide(t, EchoCard{}, WithAddr(r.Addr()), WithFaults(Faults{Reply: VanishOnAPDU()}))
		waitCard(t, r)
		if _, err := r.Transmit(apdu); !errors.Is(err, ErrCardRemoved) {
			t.Fatalf("err = %v, want ErrCardRemoved", err)
		}
	})
	t.Run("stall beyond the reader timeout", func(t *testing.T) {
		r := listenReader(t, WithTimeout(100*time.Millisecond))
		cs := startCardSide(t, EchoCard{}, WithAddr(r.Addr()), WithFaults(Faults{Reply: StallResponse(300 * time.Millisecond)}))
		waitCard(t, r)
		start := time.Now()
		_, err := r.Transmit(apdu)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if el := time.Since(start); el > time.Second {
			t.Errorf("timeout took %v", el)
		}
		cs.SetFaults(Faults{})
		waitCard(t, r)
		if _, err := r.Transmit(apdu); err != nil {
			t.Errorf("after the stall the card must serve again: %v", err)
		}
	})
	t.Run("stray reply to POWER_ON desynchronises", func(t *testing.T) {
		d := newRawDriver(t)
		stray := func(cmd, _ []byte) Reply {
			if len(cmd) == 1 && cmd[0] == CtrlPowerOn {
				return Reply{Action: Replace, Payload: []byte{0x90, 0x00}}
			}
			return Reply{}
		}
		startCardSide(t, EchoCard{}, WithAddr(d.addr()), WithFaults(Faults{Reply: stray}))
		c := d.accept()
		write(t, c, 0, 1, CtrlPowerOn, 0, 1, CtrlGetATR)
		if got := readFrame(t, c); !bytes.Equal(got, []byte{0x90, 0x00}) {
			t.Errorf("GET_ATR read % X, want the stray 9000 (§3.1)", got)
		}
	})
	t.Run("slow insertion", func(t *testing.T) {
		r := listenReader(t)
		start := time.Now()
		startCardSide(t, EchoCard{}, WithAddr(r.Addr()), WithFaults(Faults{InsertDelay: 200 * time.Millisecond}))
		waitCard(t, r)
		if el := time.Since(start); el < 200*time.Millisecond {
			t.Errorf("card arrived after %v, before the 200ms insert delay", el)
		}
	})
}

func TestReconnectAfterListenerRestart(t *testing.T) {
	r1 := listenReader(t)
	addr := r1.Addr()
	card := &recordingCard{}
	startCardSide(t, card, WithAddr(addr))
	waitCard(t, r1)
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the card side backs off against a refused port
	r2, err := Listen(addr, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatalf("re-listening on %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = r2.Close() })
	waitCard(t, r2)
	if _, err := r2.Transmit([]byte{0, 0xA4, 0, 0}); err != nil {
		t.Fatalf("Transmit after reconnect: %v", err)
	}
	// The lost connection powered the card off before pcscd's power-up.
	calls := card.Calls()
	if off, on := indexOf(calls, "PowerOff"), lastIndexOf(calls, "PowerOn"); off < 0 || off > on {
		t.Errorf("card calls %v: want a PowerOff after the connection was lost", calls)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func lastIndexOf(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}

func TestRemoveInsert(t *testing.T) {
	r := listenReader(t)
	cs := startCardSide(t, EchoCard{}, WithAddr(r.Addr()))
	waitCard(t, r)
	if !cs.Connected() {
		t.Fatal("card side not connected after WaitCard")
	}

	cs.Remove()
	if cs.Connected() || cs.Inserted() {
		t.Error("card side still connected/inserted after Remove")
	}
	if _, err := r.Transmit([]byte{0, 0xA4, 0, 0}); !errors.Is(err, ErrCardRemoved) {
		t.Fatalf("Transmit after Remove: err = %v, want ErrCardRemoved", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := r.WaitCard(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitCard while removed: err = %v, want a timeout (card must stay out)", err)
	}

	cs.Insert()
	waitCard(t, r)
	if _, err := r.Transmit([]byte{0, 0xA4, 0, 0}); err != nil {
		t.Fatalf("Transmit after Insert: %v", err)
	}
	cs.Remove()
	cs.Remove() // idempotent
	cs.Insert()
	cs.Insert()
	waitCard(t, r)
}

func TestRunStopsWhileVpcdAbsent(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nobody listens: every dial is refused
	cs := NewCardSide(EchoCard{}, WithAddr(addr), WithLogger(testLogger(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := cs.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("Run took %v to notice cancellation", el)
	}
}

func TestReaderCloseInterruptsWaitCard(t *testing.T) {
	r := listenReader(t)
	done := make(chan error, 1)
	go func() { done <- r.WaitCard(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	_ = r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("WaitCard = %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not interrupt WaitCard")
	}
}
