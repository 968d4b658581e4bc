package vpcd

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCardSideDropsPeerStalledMidFrame: a reader that sends the start of a
// frame and then nothing is dropped after the timeout, with the reason
// logged, and the card reconnects; a reader silent between frames is not
// dropped (vpcd may idle as long as it likes, docs/vpcd-pcscd.md §3).
func TestCardSideDropsPeerStalledMidFrame(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var logs lockedBuffer
	const timeout = 300 * time.Millisecond
	startCardSide(t, EchoCard{}, WithAddr(ln.Addr().String()), WithTimeout(timeout),
		WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	accept := func() net.Conn {
		t.Helper()
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			t.Fatalf("waiting for the card to connect: %v", err)
		}
		return c
	}
	conn := accept()
	defer conn.Close()

	// Silent between frames for longer than the timeout: still served.
	time.Sleep(3 * timeout) // proves a negative: the connection survives idleness
	if err := WriteFrame(conn, []byte{CtrlGetATR}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := ReadFrame(conn, nil); err != nil {
		t.Fatalf("GET_ATR after an idle spell: %v", err)
	}

	// Half a header, then nothing: dropped, logged, reconnected.
	start := time.Now()
	if _, err := conn.Write([]byte{0x00}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("card side answered half a frame header")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("card side still holds the connection 20 s after a stall")
	}
	t.Logf("stalled peer dropped after %v (timeout %v)", time.Since(start).Round(time.Millisecond), timeout)
	again := accept()
	defer again.Close()
	if !strings.Contains(logs.String(), "stalled mid-frame") {
		t.Errorf("log does not say why the connection was dropped:\n%s", logs.String())
	}

	// A body that stops half-way is dropped too.
	if _, err := again.Write([]byte{0x00, 0x05, 0x00, 0xA4}); err != nil {
		t.Fatal(err)
	}
	again.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := again.Read(make([]byte, 1)); err == nil {
		t.Fatal("card side answered half a frame body")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("card side still holds the connection 20 s after a stall in the body")
	}
	accept().Close()
}
