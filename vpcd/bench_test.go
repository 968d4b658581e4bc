package vpcd

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRoundTrip measures one APDU exchange, Reader → CardSide(EchoCard)
// → Reader, over real loopback TCP with the production socket options
// (TCP_NODELAY, TCP_QUICKACK re-armed before every read). The goal is the
// loopback floor, tens of µs, not the ~40 ms of a delayed ACK
// (docs/vpcd-pcscd.md §5.4).
func BenchmarkRoundTrip(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, bc := range []struct {
		name string
		card EchoCard
		cmd  []byte
	}{
		{"select-7B", EchoCard{}, []byte{0x00, 0xA4, 0x04, 0x0C, 0x02, 0x3F, 0x00}},
		{"echo-261B", EchoCard{EchoData: true}, make([]byte, 261)},
		{"echo-4KiB", EchoCard{EchoData: true}, make([]byte, 4096)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := Listen("", WithLogger(quiet))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = NewCardSide(bc.card, WithAddr(r.Addr()), WithLogger(quiet)).Run(ctx)
			}()
			defer func() { cancel(); <-done }()
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			defer wcancel()
			if err := r.WaitCard(wctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.cmd)))
			for b.Loop() {
				if _, err := r.Transmit(bc.cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
