package vpcd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Wire constants from docs/vpcd-pcscd.md §1.2, §2 and §3.1.
const (
	// DefaultPort is vpcd's default TCP port for slot 0 (VPCDPORT, 0x8C7B);
	// slot n listens on DefaultPort+n (§1.2).
	DefaultPort = 35963
	// DefaultAddr is where the card side dials by default: vpcd listens on
	// IPv4 only (§1.1, §5.4).
	DefaultAddr = "127.0.0.1:35963"
	// MaxPayload is the largest frame payload in either direction (§2).
	MaxPayload = 0xFFFF
	// MaxATR is the longest ATR pcscd accepts (MAX_ATR_SIZE, §4).
	MaxATR = 33

	headerLen = 2
)

// Control codes: 1-byte frames from the driver (§3.1). Only CtrlGetATR is
// answered; code 03 is never used.
const (
	CtrlPowerOff byte = 0x00
	CtrlPowerOn  byte = 0x01
	CtrlReset    byte = 0x02
	CtrlGetATR   byte = 0x04
)

var (
	// ErrEmptyFrame reports a zero-length frame, which neither side may send:
	// vpcd hangs in a 0-byte MSG_WAITALL recv on one (§4, §5.3).
	ErrEmptyFrame = errors.New("zero-length vpcd frame")
	// ErrFrameTooLarge reports a payload over MaxPayload, which the 16-bit
	// length cannot carry (§2).
	ErrFrameTooLarge = errors.New("vpcd frame payload exceeds 65535 bytes")
)

// ReadFrame reads one frame from r and returns its payload. It reuses buf's
// storage when it is large enough, so the payload is only valid until the
// next call with the same buf.
//
// Errors: io.EOF if r ended cleanly before the frame began;
// io.ErrUnexpectedEOF (wrapped) if it ended inside the header or the body;
// ErrEmptyFrame for a zero-length frame (§5.3); any read error from r,
// wrapped.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	if cap(buf) < headerLen {
		buf = make([]byte, 0, 256)
	}
	hdr := buf[:headerLen]
	if _, err := io.ReadFull(r, hdr); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("reading vpcd frame header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(hdr))
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	body := buf[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading vpcd frame body (%d bytes): %w", n, err)
	}
	return body, nil
}

// AppendFrame appends the frame carrying payload (header and body) to dst.
// It refuses empty and oversize payloads rather than sending a frame vpcd
// would mishandle or truncating one (§2, §10.2).
func AppendFrame(dst, payload []byte) ([]byte, error) {
	switch {
	case len(payload) == 0:
		return dst, ErrEmptyFrame
	case len(payload) > MaxPayload:
		return dst, fmt.Errorf("framing %d bytes: %w", len(payload), ErrFrameTooLarge)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(payload)))
	return append(dst, payload...), nil
}

// WriteFrame writes the frame carrying payload to w in a single Write, so
// header and body leave in one segment (§5.4).
func WriteFrame(w io.Writer, payload []byte) error {
	f, err := AppendFrame(make([]byte, 0, headerLen+len(payload)), payload)
	if err != nil {
		return err
	}
	if _, err := w.Write(f); err != nil {
		return fmt.Errorf("writing vpcd frame: %w", err)
	}
	return nil
}

// frameWriter writes frames through one reusable buffer, so the hot path
// does not allocate.
type frameWriter struct {
	buf []byte
}

func (fw *frameWriter) write(w io.Writer, payload []byte) error {
	f, err := AppendFrame(fw.buf[:0], payload)
	if err != nil {
		return err
	}
	fw.buf = f
	if _, err := w.Write(f); err != nil {
		return fmt.Errorf("writing vpcd frame: %w", err)
	}
	return nil
}
