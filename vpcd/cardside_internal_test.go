package vpcd

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFrameSummaryMasksPINs(t *testing.T) {
	verify := []byte{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'}
	if s := frameSummary(verify); strings.Contains(s, "31 32 33 34") || !strings.Contains(s, "4 bytes masked") {
		t.Errorf("VERIFY logged as %q", s)
	}
	sel := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A}
	if s := frameSummary(sel); s != "00 A4 02 0C 02 00 0A" {
		t.Errorf("SELECT logged as %q", s)
	}
	if s := frameSummary([]byte{0x04}); s != "04" {
		t.Errorf("GET_ATR logged as %q", s)
	}
}

// countingHandler counts log records whose message is msg.
type countingHandler struct {
	slog.Handler
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

func TestCardSideBacksOffWhenVPCDIsAbsent(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	var n atomic.Int64
	log := slog.New(countingHandler{msg: "vpcd not reachable, retrying", n: &n})
	s := NewCardSide(EchoCard{}, WithAddr(addr), WithLogger(log), WithBackoff(50*time.Millisecond, 2*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_ = s.Run(ctx)
	// 50+100+200 ms of back-off fit in 400 ms: a handful of attempts, not a busy loop.
	if got := n.Load(); got < 2 || got > 6 {
		t.Fatalf("%d failed attempts in 400 ms, want 2–6 (back-off 50 ms doubling)", got)
	}
}
