package vpcd

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzCardSideStream feeds an arbitrary byte stream from the driver to the
// card side's serve loop and checks what comes back against the rules of
// docs/vpcd-pcscd.md §3.1 and §10: exactly one reply per GET_ATR or APDU,
// none for 00/01/02, the connection ends at the first malformed frame, and
// no reply is ever empty. Seeds live in testdata/fuzz/FuzzCardSideStream.
func FuzzCardSideStream(f *testing.F) {
	f.Add([]byte{0, 1, 4, 0, 1, 1, 0, 1, 4})
	f.Add([]byte{0, 1, 0, 0, 1, 1, 0, 1, 2, 0, 4, 0, 0xA4, 0, 0, 0, 1, 4})
	f.Add([]byte{0, 1, 3, 0, 1, 4})
	f.Add([]byte{0, 0, 0, 1, 4})
	f.Add([]byte{0, 2, 0x90})
	f.Fuzz(func(t *testing.T, data []byte) {
		// A trailing GET_ATR is a barrier: an extra reply anywhere shifts
		// the replies before its ATR, so no waiting for silence is needed.
		data = append(data[:len(data):len(data)], 0, 1, CtrlGetATR)
		// What a correct card side must answer, frame by frame.
		var want [][]byte
		r := bytes.NewReader(data)
		for {
			p, err := ReadFrame(r, nil)
			if err != nil {
				break
			}
			if len(p) > 1 {
				want = append(want, append(append([]byte(nil), p...), 0x90, 0x00))
				continue
			}
			if p[0] == CtrlGetATR {
				want = append(want, EchoATR)
			} else if p[0] > CtrlReset {
				break // unknown control code: the card side leaves
			}
		}
		// The echo of a 65534- or 65535-byte APDU cannot be framed.
		for i, w := range want {
			if len(w) > MaxPayload {
				want[i] = swNoPreciseDiagnosis
			}
		}

		driver, card := net.Pipe()
		defer driver.Close()
		cs := NewCardSide(EchoCard{EchoData: true}, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		served := make(chan error, 1)
		go func() { served <- cs.serve(ctx, card, cs.opts.logger) }()
		go func() { _, _ = driver.Write(data) }()

		_ = driver.SetReadDeadline(time.Now().Add(5 * time.Second))
		for i, w := range want {
			got, err := ReadFrame(driver, nil)
			if err != nil {
				t.Fatalf("reply %d of %d: %v", i+1, len(want), err)
			}
			if !bytes.Equal(got, w) {
				t.Fatalf("reply %d = % X, want % X", i+1, got[:min(len(got), 16)], w[:min(len(w), 16)])
			}
		}
		cancel()
		<-served
	})
}
