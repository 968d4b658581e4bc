package vpcd

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// ErrStalled is a peer that started a frame and stopped sending before its
// end: the card side drops it after the timeout (WithTimeout) instead of
// holding the slot forever, and reconnects.
var ErrStalled = errors.New("peer stalled mid-frame")

// frameReader reads one frame at a time from conn: it waits without limit
// for a frame's first byte (vpcd may stay silent between commands), then
// gives the rest of the frame timeout to arrive (0: no limit).
type frameReader struct {
	conn    net.Conn
	timeout time.Duration
	first   [1]byte
	pending bool // first holds a byte not yet consumed
}

func (fr *frameReader) Read(p []byte) (int, error) {
	if fr.pending && len(p) > 0 {
		p[0] = fr.first[0]
		fr.pending = false
		return 1, nil
	}
	return fr.conn.Read(p)
}

// next reads the next frame into buf (see ReadFrame).
func (fr *frameReader) next(buf []byte) ([]byte, error) {
	if fr.timeout > 0 {
		_ = fr.conn.SetReadDeadline(time.Time{})
	}
	n, err := fr.conn.Read(fr.first[:])
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, fmt.Errorf("reading vpcd frame header: %w", err)
	}
	fr.pending = true
	if fr.timeout > 0 {
		_ = fr.conn.SetReadDeadline(time.Now().Add(fr.timeout))
	}
	f, err := ReadFrame(fr, buf)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("%w: the rest of the frame did not arrive within %v: %w", ErrStalled, fr.timeout, err)
	}
	return f, err
}
