package pcsc

// #cgo pkg-config: libpcsclite
// #include <winscard.h>
//
// static LONG transmit(SCARDHANDLE h, DWORD proto, const BYTE *cmd, DWORD cmdLen, BYTE *rsp, DWORD *rspLen) {
// 	SCARD_IO_REQUEST pci;
// 	pci.dwProtocol = proto;
// 	pci.cbPciLength = sizeof(SCARD_IO_REQUEST);
// 	return SCardTransmit(h, &pci, cmd, cmdLen, NULL, rsp, rspLen);
// }
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/mynahil/mynahil/harness"
)

// MaxResponse is the longest response pcsc-lite delivers, and the longest
// command it accepts (MAX_BUFFER_SIZE_EXTENDED: 64 KiB of data, header,
// Lc, Le and status word; docs/vpcd-pcscd.md §9).
const MaxResponse = C.MAX_BUFFER_SIZE_EXTENDED

// maxCommand is the longest command pcsc-lite accepts.
const maxCommand = MaxResponse

// Card is a connection to a card through pcscd. It implements
// harness.Transport and is safe for concurrent use: pcsc-lite serialises
// the calls of one context itself, and lets a call that waits for another
// application's transaction poll without holding up the others. A call
// made after Close says harness.ErrClosed; one that races with Close may
// end with the Error SCARD_E_INVALID_HANDLE instead.
type Card struct {
	h      C.SCARDHANDLE
	proto  atomic.Uint32 // the active protocol; Reconnect may change it
	reader string
	mode   Mode
	closed atomic.Bool
	owned  *Context // released by Close when the Card came from Open
}

// Open connects to the card in the reader chosen by selector through a
// context of its own, which Close releases: the one-call way to a
// Transport.
func Open(selector string, mode Mode) (*Card, error) {
	c, err := Establish()
	if err != nil {
		return nil, err
	}
	card, err := c.Connect(selector, mode)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	card.owned = c
	return card, nil
}

var _ harness.Transport = (*Card)(nil)

// Reader returns the name of the reader the card is in.
func (c *Card) Reader() string { return c.reader }

// Mode returns the share mode the card was connected with.
func (c *Card) Mode() Mode { return c.mode }

// ActiveProtocol returns the protocol SCardConnect or the last
// SCardReconnect established.
func (c *Card) ActiveProtocol() Protocol { return Protocol(c.proto.Load()) }

// Protocol returns the active protocol, "T=0" or "T=1".
func (c *Card) Protocol() string {
	switch c.ActiveProtocol() {
	case ProtocolT0:
		return "T=0"
	case ProtocolT1:
		return "T=1"
	}
	return "none"
}

func (c *Card) check(action string) error {
	if c.closed.Load() {
		return fmt.Errorf("%s: %w", action, harness.ErrClosed)
	}
	return nil
}

// Transmit sends one command APDU with SCardTransmit and returns the
// response (data + SW1 SW2). A response shorter than a status word is an
// error: an empty "success" is what pcscd returns when a vpcd card vanished
// in the middle of the exchange (docs/vpcd-pcscd.md §5.2), so it wraps
// ErrCardRemoved.
func (c *Card) Transmit(command []byte) ([]byte, error) {
	if err := checkCommand(command); err != nil {
		return nil, err
	}
	if err := c.check("transmitting APDU"); err != nil {
		return nil, err
	}
	switch c.ActiveProtocol() {
	case ProtocolT0, ProtocolT1:
	default:
		return nil, fmt.Errorf("transmitting APDU: no active protocol (T=0/T=1) on %q", c.reader)
	}
	rsp := make([]byte, MaxResponse)
	n, err := c.transmit(command, rsp, len(rsp))
	if err != nil {
		return nil, wrap("transmitting APDU", err)
	}
	switch n {
	case 0:
		return nil, fmt.Errorf("transmitting APDU: %w: empty response from %q", ErrCardRemoved, c.reader)
	case 1:
		return nil, fmt.Errorf("transmitting APDU: 1-byte response %02X from %q has no status word", rsp[0], c.reader)
	}
	return append([]byte(nil), rsp[:n]...), nil
}

// checkCommand refuses what pcsc-lite cannot carry; shorter malformed
// commands are left for pcsc-lite and the card to refuse.
func checkCommand(command []byte) error {
	if len(command) == 0 || len(command) > maxCommand {
		return fmt.Errorf("transmitting APDU: a command needs 1..%d bytes, got %d", maxCommand, len(command))
	}
	return nil
}

// transmit is SCardTransmit with the active protocol into the first
// bufLen bytes of buf (len(buf) >= max(bufLen, 1): even a 0-byte buffer
// has an address); it returns *pcbRecvLength, which is the length
// needed when the error is SCARD_E_INSUFFICIENT_BUFFER.
func (c *Card) transmit(command, buf []byte, bufLen int) (int, error) {
	n := C.DWORD(bufLen)
	rc := C.transmit(c.h, C.DWORD(c.proto.Load()), (*C.BYTE)(unsafe.Pointer(&command[0])), C.DWORD(len(command)), (*C.BYTE)(unsafe.Pointer(&buf[0])), &n)
	return int(n), code(rc)
}

// Received is what one SCardTransmit left in a receive buffer of the
// caller's size (Card.TransmitBuffer).
type Received struct {
	Data       []byte // the bytes the call reports as received; nil when it failed
	Needed     int    // pcbRecvLength after the call: the length received, or the length needed with ErrInsufficientBuffer
	Overflowed bool   // the call changed bytes past the buffer
}

// canary fills the bytes after the buffer TransmitBuffer hands to
// SCardTransmit; any change to them is an overflow.
const (
	canary = 0xA5
	guard  = 64
)

// TransmitBuffer is SCardTransmit into a receive buffer of bufLen bytes
// (0..MaxResponse), reporting exactly what the call did: a response without
// a status word is data like any other, a response that does not fit is
// ErrInsufficientBuffer with the length needed, and bytes written past the
// buffer are reported (pcsc-lite UnitaryTests
// BufferOverflow_SCardTransmit.c; conformance check R14).
func (c *Card) TransmitBuffer(command []byte, bufLen int) (Received, error) {
	if err := checkCommand(command); err != nil {
		return Received{}, err
	}
	if bufLen < 0 || bufLen > MaxResponse {
		return Received{}, fmt.Errorf("transmitting APDU: a receive buffer needs 0..%d bytes, got %d", MaxResponse, bufLen)
	}
	if err := c.check("transmitting APDU"); err != nil {
		return Received{}, err
	}
	rsp := make([]byte, bufLen+guard)
	for i := bufLen; i < len(rsp); i++ {
		rsp[i] = canary
	}
	n, err := c.transmit(command, rsp, bufLen)
	r := Received{Needed: n}
	for _, b := range rsp[bufLen:] {
		r.Overflowed = r.Overflowed || b != canary
	}
	if err != nil {
		return r, wrap("transmitting APDU", err)
	}
	r.Data = append([]byte{}, rsp[:min(n, bufLen)]...)
	return r, nil
}

// CardStatus is a connected card as SCardStatus reports it.
type CardStatus struct {
	Reader   string
	State    CardState // SCARD_* card state bits; pcsc-lite counts card events in the upper 16 bits
	Protocol Protocol
	ATR      []byte
}

// ATR returns the card's answer-to-reset as pcscd cached it at power-up
// (SCardStatus).
func (c *Card) ATR() ([]byte, error) {
	st, err := c.Status()
	if err != nil {
		return nil, fmt.Errorf("reading ATR: %w", err)
	}
	return st.ATR, nil
}

// Status returns SCardStatus: reader, state, protocol and ATR.
func (c *Card) Status() (*CardStatus, error) {
	if err := c.check("reading card status"); err != nil {
		return nil, err
	}
	var reader [C.MAX_READERNAME + 1]C.char
	var atr [C.MAX_ATR_SIZE]C.BYTE
	readerLen, atrLen := C.DWORD(len(reader)), C.DWORD(len(atr))
	var state, proto C.DWORD
	if err := code(C.SCardStatus(c.h, &reader[0], &readerLen, &state, &proto, &atr[0], &atrLen)); err != nil {
		return nil, wrap("reading card status", err)
	}
	return &CardStatus{
		Reader:   C.GoString(&reader[0]),
		State:    CardState(state),
		Protocol: Protocol(proto),
		ATR:      C.GoBytes(unsafe.Pointer(&atr[0]), C.int(atrLen)),
	}, nil
}

// Reset warm-resets the card: SCardReconnect with SCARD_RESET_CARD (ISO/IEC
// 7816-3 clause 6.2.3; vpcd sends RESET then GET_ATR, docs/vpcd-pcscd.md
// §3.3). Every application connected to the card sees ErrCardReset on its
// next call.
func (c *Card) Reset() error {
	return c.Reconnect(ResetCard)
}

// Reconnect re-establishes the connection in the same mode, offering T=0
// and T=1, with the given disposition: LeaveCard to acknowledge another
// application's reset (ErrCardReset), ResetCard for a warm reset,
// UnpowerCard for a cold one.
func (c *Card) Reconnect(d Disposition) error {
	action := fmt.Sprintf("reconnecting to %q", c.reader)
	if err := c.check(action); err != nil {
		return err
	}
	var proto C.DWORD
	if err := code(C.SCardReconnect(c.h, c.mode.share(), C.SCARD_PROTOCOL_T0|C.SCARD_PROTOCOL_T1, C.DWORD(d), &proto)); err != nil {
		return wrap(action, err)
	}
	c.proto.Store(uint32(proto))
	return nil
}

// Begin starts a transaction (SCardBeginTransaction): until End, no other
// application's commands reach the card, so a VERIFY and the command that
// needs it cannot be split by another client in shared mode. It blocks while
// another application holds a transaction.
func (c *Card) Begin() error {
	if err := c.check("beginning transaction"); err != nil {
		return err
	}
	return wrap("beginning transaction", code(C.SCardBeginTransaction(c.h)))
}

// End ends the transaction with a disposition: LeaveCard keeps the card's
// state, ResetCard resets it (dropping verified PINs).
func (c *Card) End(d Disposition) error {
	if err := c.check("ending transaction"); err != nil {
		return err
	}
	return wrap("ending transaction", code(C.SCardEndTransaction(c.h, C.DWORD(d))))
}

// Control sends a command to the reader itself (SCardControl, PC/SC part
// 10), e.g. GetFeatureRequest, and returns its answer.
func (c *Card) Control(ioctl uint32, in []byte) ([]byte, error) {
	action := fmt.Sprintf("SCardControl %#08x", ioctl)
	if err := c.check(action); err != nil {
		return nil, err
	}
	var inp unsafe.Pointer
	if len(in) > 0 {
		inp = unsafe.Pointer(&in[0])
	}
	out := make([]byte, MaxResponse)
	var n C.DWORD
	if err := code(C.SCardControl(c.h, C.DWORD(ioctl), C.LPCVOID(inp), C.DWORD(len(in)), C.LPVOID(unsafe.Pointer(&out[0])), C.DWORD(len(out)), &n)); err != nil {
		return nil, wrap(action, err)
	}
	return append([]byte(nil), out[:n]...), nil
}

// GetAttrib reads a reader attribute (SCardGetAttrib, PC/SC part 3).
func (c *Card) GetAttrib(id Attrib) ([]byte, error) {
	action := fmt.Sprintf("reading attribute %#x", uint32(id))
	if err := c.check(action); err != nil {
		return nil, err
	}
	var n C.DWORD
	if err := code(C.SCardGetAttrib(c.h, C.DWORD(id), nil, &n)); err != nil {
		return nil, wrap(action, err)
	}
	if n == 0 {
		return []byte{}, nil
	}
	buf := make([]byte, n)
	if err := code(C.SCardGetAttrib(c.h, C.DWORD(id), (*C.BYTE)(unsafe.Pointer(&buf[0])), &n)); err != nil {
		return nil, wrap(action, err)
	}
	return buf[:min(int(n), len(buf))], nil
}

// Close disconnects, leaving the card as it is (SCARD_LEAVE_CARD); pcscd
// powers it down about a second later when nobody else holds it
// (docs/vpcd-pcscd.md §3.3). A card that was removed meanwhile is not an
// error: the handle is gone either way. Closing twice is not an error.
func (c *Card) Close() error {
	return c.disconnect(LeaveCard, true)
}

// Disconnect closes the connection with a disposition and returns what
// SCardDisconnect said (ErrCardRemoved when the card left meanwhile; the
// handle is gone either way). Disconnecting a closed Card does nothing.
func (c *Card) Disconnect(d Disposition) error {
	return c.disconnect(d, false)
}

func (c *Card) disconnect(d Disposition, lenient bool) error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := code(C.SCardDisconnect(c.h, C.DWORD(d)))
	if lenient && (errors.Is(err, wRemovedCard) || errors.Is(err, eInvalidHandle)) {
		err = nil
	}
	err = wrap(fmt.Sprintf("disconnecting from %q", c.reader), err)
	if c.owned != nil {
		err = errors.Join(err, c.owned.Close())
	}
	return err
}
