package bench

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/vpcd"
)

// tcpPingPong times n 2-byte round trips over a plain loopback TCP
// connection: the machine's own speed right now, sharing no code with the
// card side.
func tcpPingPong(t *testing.T, n int) []time.Duration {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 2)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	out := make([]time.Duration, 0, n)
	buf := []byte{0x90, 0x00}
	for range n + 20 {
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Since(start))
	}
	return out[20:]
}

// TestNoDelayedACKStall catches the loss of TCP_QUICKACK re-arming on the
// card side (docs/vpcd-pcscd.md §5.4): vpcd writes a frame's header and body
// separately, so without it every APDU through pcscd waits for Linux's
// delayed ACK, 40 ms or more. The APDU round trip through pcscd is compared
// with a plain loopback TCP ping-pong measured in the same run (no code
// shared with the card side): it must stay within 200 times the ping-pong,
// bounded to 5–25 ms so that a machine slowed down by other work neither
// fails nor hides a 40 ms stall.
func TestNoDelayedACKStall(t *testing.T) {
	pcscdenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	echo, err := vpcdslot.Attach(ctx, vpcd.EchoCard{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Detach(context.Background()) //nolint:errcheck // best effort
	pc, err := pcsc.Establish()
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	card, err := pc.Connect(echo.Reader, pcsc.Shared)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Close()

	const n = 60
	var apdu []time.Duration
	for i := range n + 10 {
		d, err := roundTrip(card)
		if err != nil {
			t.Fatal(err)
		}
		if i >= 10 { // warm-up
			apdu = append(apdu, d)
		}
	}
	base := Summarise(tcpPingPong(t, 200)).Median
	got := Summarise(apdu).Median
	limit := min(max(200*base, 5*time.Millisecond), 25*time.Millisecond)
	t.Logf("APDU through pcscd: median %v; loopback TCP ping-pong: median %v; limit %v", got, base, limit)
	if got > limit {
		t.Errorf("APDU round trip through pcscd %v, above %v (200× a loopback ping-pong of %v): a delayed-ACK stall? (TCP_QUICKACK, docs/vpcd-pcscd.md §5.4)", got, limit, base)
	}
}
