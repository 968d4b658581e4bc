package vpcd

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// testLogger sends a test's vpcd logs to t.Log (shown on failure or -v).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// startCardSide runs a CardSide for card until the test ends; cleanup waits
// for Run to return, so nothing logs after the test.
func startCardSide(t testing.TB, card Card, opts ...Option) *CardSide {
	t.Helper()
	opts = append([]Option{WithLogger(testLogger(t)), WithBackoff(5*time.Millisecond, 50*time.Millisecond)}, opts...)
	cs := NewCardSide(card, opts...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cs.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("CardSide.Run did not return after cancel")
		}
	})
	return cs
}

// listenReader opens a Reader on a free loopback port for the test.
func listenReader(t testing.TB, opts ...Option) *Reader {
	t.Helper()
	r, err := Listen("", append([]Option{WithLogger(testLogger(t)), WithTimeout(2 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func waitCard(t testing.TB, r *Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.WaitCard(ctx); err != nil {
		t.Fatalf("WaitCard: %v", err)
	}
}

// rawDriver is a hand-driven stand-in for vpcd: a plain listener whose
// connections the test reads and writes byte by byte.
type rawDriver struct {
	t  testing.TB
	ln net.Listener
}

func newRawDriver(t testing.TB) *rawDriver {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &rawDriver{t: t, ln: ln}
}

func (d *rawDriver) addr() string { return d.ln.Addr().String() }

// accept waits for the card side's next connection.
func (d *rawDriver) accept() net.Conn {
	d.t.Helper()
	_ = d.ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	c, err := d.ln.Accept()
	if err != nil {
		d.t.Fatalf("card side did not (re)connect: %v", err)
	}
	d.t.Cleanup(func() { _ = c.Close() })
	return c
}

// expectClosed asserts that the card side closes c without sending anything.
func expectClosed(t testing.TB, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if err != io.EOF {
		t.Fatalf("card side should have closed the connection: read %d bytes, err %v", n, err)
	}
}

func write(t testing.TB, c net.Conn, b ...byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatalf("writing %X: %v", b, err)
	}
}

func readFrame(t testing.TB, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := ReadFrame(c, nil)
	if err != nil {
		t.Fatalf("reading frame from card side: %v", err)
	}
	return p
}

// recordingCard is an echo card that records the control calls it gets.
type recordingCard struct {
	EchoCard
	mu    sync.Mutex
	calls []string
	resp  []byte // if set, Transmit returns it instead of echoing
	atr   []byte // if set, ATR returns it instead of EchoATR
}

func (c *recordingCard) record(s string) {
	c.mu.Lock()
	c.calls = append(c.calls, s)
	c.mu.Unlock()
}

func (c *recordingCard) Calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *recordingCard) ATR() []byte {
	c.record("ATR")
	if c.atr != nil {
		return c.atr
	}
	return c.EchoCard.ATR()
}

func (c *recordingCard) Transmit(cmd []byte) []byte {
	c.record("Transmit")
	if c.resp != nil {
		return c.resp
	}
	return c.EchoCard.Transmit(cmd)
}

func (c *recordingCard) PowerOn()  { c.record("PowerOn") }
func (c *recordingCard) PowerOff() { c.record("PowerOff") }
func (c *recordingCard) Reset()    { c.record("Reset") }
