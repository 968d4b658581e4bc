package pcsc

// #cgo pkg-config: libpcsclite
// #include <stdlib.h>
// #include <winscard.h>
//
// // listReaders has libpcsclite allocate the multi-string, so readers
// // appearing between a size query and the read cannot overrun it.
// static LONG listReaders(SCARDCONTEXT h, char **names, DWORD *n) {
// 	*n = SCARD_AUTOALLOCATE;
// 	return SCardListReaders(h, NULL, (LPSTR)names, n);
// }
import "C"

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// Context is a PC/SC resource-manager context (SCardEstablishContext). It
// is safe for concurrent use: pcsc-lite serialises the calls of one
// context itself, and the waits run on a context of their own (package
// doc), so a wait holds up neither the cards connected through the
// Context nor its other calls.
type Context struct {
	h      C.SCARDCONTEXT // listing readers and connecting: the cards belong to it
	events events
	closed atomic.Bool
}

// Establish connects to pcscd. It fails with ErrNoService when pcscd does
// not run.
func Establish() (*Context, error) {
	c := &Context{}
	if err := code(C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &c.h)); err != nil {
		return nil, wrap("establishing PC/SC context", err)
	}
	if err := code(C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &c.events.h)); err != nil {
		C.SCardReleaseContext(c.h)
		return nil, wrap("opening the context for reader events", err)
	}
	return c, nil
}

// Close cancels any blocked wait and releases the context. Cards connected
// through it stay usable until their own Close only as far as pcsc-lite
// allows: close cards first. Closing twice is not an error.
func (c *Context) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	return errors.Join(wrap("releasing the context for reader events", c.events.release()),
		wrap("releasing PC/SC context", code(C.SCardReleaseContext(c.h))))
}

func (c *Context) check(action string) error {
	if c.closed.Load() {
		return fmt.Errorf("%s: %w", action, ErrClosed)
	}
	return nil
}

// ReaderNames lists the readers pcscd knows, in pcscd's order (the order
// Select's indices refer to). No reader is an empty list, not an error.
func (c *Context) ReaderNames() ([]string, error) {
	if err := c.check("listing readers"); err != nil {
		return nil, err
	}
	var p *C.char
	var n C.DWORD
	err := code(C.listReaders(c.h, &p, &n))
	if errors.Is(err, eNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("listing readers", err)
	}
	defer C.SCardFreeMemory(c.h, C.LPCVOID(unsafe.Pointer(p)))
	var names []string
	for _, b := range bytes.Split(C.GoBytes(unsafe.Pointer(p), C.int(n)), []byte{0}) {
		if len(b) > 0 {
			names = append(names, string(b))
		}
	}
	return names, nil
}

// GetStatusChange is SCardGetStatusChange (PC/SC part 5): it blocks until
// the state of one of states differs from its CurrentState, or timeout
// passes (ErrTimeout; a negative timeout waits for ever), and fills in
// EventState and ATR. Cancel or Close ends it with ErrCancelled. The
// special reader name `\\?PnP?\Notification` waits for readers to come or
// go.
func (c *Context) GetStatusChange(states []ReaderState, timeout time.Duration) error {
	return wrap("reading reader states", c.events.getStatusChange(states, timeout))
}

// Cancel ends a GetStatusChange or wait blocked on this Context with
// ErrCancelled (SCardCancel). A Cancel made before the wait has reached
// pcscd does nothing.
func (c *Context) Cancel() error {
	return wrap("cancelling the wait for reader events", c.events.cancel())
}

// ReaderInfo is one reader as SCardGetStatusChange reports it.
type ReaderInfo struct {
	Name  string
	Index int       // position in ReaderNames, as Select counts
	State StateFlag // SCARD_STATE_* flags, event counter removed
	ATR   []byte    // empty when no card is present
}

// Present reports whether a card is in the reader.
func (r ReaderInfo) Present() bool { return r.State&StatePresent != 0 }

// Mute reports whether the card present did not answer the reset.
func (r ReaderInfo) Mute() bool { return r.State&StateMute != 0 }

// Exclusive reports whether an application holds the card exclusively.
func (r ReaderInfo) Exclusive() bool { return r.State&StateExclusive != 0 }

// InUse reports whether an application holds a connection to the card.
func (r ReaderInfo) InUse() bool { return r.State&StateInuse != 0 }

// StateString describes the state for people: "empty", "present",
// "present, in use", "mute", "unavailable".
func (r ReaderInfo) StateString() string {
	var parts []string
	switch {
	case r.State&StateUnavailable != 0:
		return "unavailable"
	case r.State&StateEmpty != 0:
		return "empty"
	case r.Mute():
		parts = append(parts, "mute")
	case r.Present():
		parts = append(parts, "present")
	default:
		return "unknown"
	}
	if r.Exclusive() {
		parts = append(parts, "exclusive")
	} else if r.InUse() {
		parts = append(parts, "in use")
	}
	return strings.Join(parts, ", ")
}

// ATRHex returns the ATR as "3B E0 00 ...", or "" when there is none.
func (r ReaderInfo) ATRHex() string {
	return strings.ToUpper(strings.Join(splitPairs(hex.EncodeToString(r.ATR)), " "))
}

func splitPairs(s string) []string {
	out := make([]string, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		out = append(out, s[i:i+2])
	}
	return out
}

// stateMask drops the event counter pcsc-lite keeps in the upper 16 bits
// of dwEventState (docs/vpcd-pcscd.md §3.4).
const stateMask = 0xFFFF

// Readers lists every reader with its current state and ATR.
func (c *Context) Readers() ([]ReaderInfo, error) {
	names, err := c.ReaderNames()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	states := make([]ReaderState, len(names))
	for i, n := range names {
		states[i] = ReaderState{Reader: n, CurrentState: StateUnaware}
	}
	if err := c.GetStatusChange(states, 0); err != nil {
		return nil, err
	}
	out := make([]ReaderInfo, len(names))
	for i, s := range states {
		out[i] = ReaderInfo{Name: s.Reader, Index: i, State: s.EventState & stateMask, ATR: s.ATR}
	}
	return out, nil
}

// Reader returns the state of one reader, chosen by selector (see Select).
func (c *Context) Reader(selector string) (ReaderInfo, error) {
	rs, err := c.Readers()
	if err != nil {
		return ReaderInfo{}, err
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	name, err := Select(names, selector)
	if err != nil {
		return ReaderInfo{}, err
	}
	for _, r := range rs {
		if r.Name == name {
			return r, nil
		}
	}
	return ReaderInfo{}, fmt.Errorf("selecting reader %q: %w", selector, ErrReaderNotFound)
}

// WaitCard waits until a card is present in the reader named by selector
// and returns its state. It ends with an error wrapping ErrCancelled and
// the context's error when ctx ends, and ErrCardMute when the card present
// does not answer.
func (c *Context) WaitCard(ctx context.Context, selector string) (ReaderInfo, error) {
	return c.wait(ctx, selector, true)
}

// WaitRemoved waits until the reader named by selector is empty.
func (c *Context) WaitRemoved(ctx context.Context, selector string) (ReaderInfo, error) {
	return c.wait(ctx, selector, false)
}

// waitSlice bounds one SCardGetStatusChange call so that a reader that
// appears late, or a context deadline, is noticed without SCardCancel.
const waitSlice = 2 * time.Second

func (c *Context) wait(ctx context.Context, selector string, present bool) (ReaderInfo, error) {
	action := "waiting for a card"
	if !present {
		action = "waiting for the card to be removed"
	}
	r, err := c.Reader(selector)
	if err != nil {
		return ReaderInfo{}, fmt.Errorf("%s: %w", action, err)
	}
	action += " in " + fmt.Sprintf("%q", r.Name)
	// SCardCancel is the one call pcsc-lite allows on a context another
	// thread is blocked in. A cancel already under way when the wait ends
	// is waited for: otherwise, run late on a busy machine, it would cancel
	// the next blocking call on this context (a later wait would fail with
	// "cancelled" although its own context is alive).
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(cancelled)
		_ = c.events.cancel()
	})
	defer func() {
		if !stop() {
			<-cancelled
		}
	}()

	state := r.State
	for {
		switch {
		case present && r.Mute():
			return r, fmt.Errorf("%s: %w", action, ErrCardMute)
		case present && r.Present(), !present && !r.Present():
			return r, nil
		}
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("%s: %w: %w", action, ErrCancelled, err)
		}
		timeout := waitSlice
		if dl, ok := ctx.Deadline(); ok {
			timeout = min(timeout, max(time.Until(dl), time.Millisecond))
		}
		rs := []ReaderState{{Reader: r.Name, CurrentState: state}}
		err := c.events.getStatusChange(rs, timeout)
		switch {
		case errors.Is(err, eTimeout):
			continue
		case errors.Is(err, eCancelled) && ctx.Err() != nil:
			return r, fmt.Errorf("%s: %w: %w", action, ErrCancelled, ctx.Err())
		case err != nil:
			return r, wrap(action, err)
		}
		state = rs[0].EventState &^ StateChanged
		r.State, r.ATR = rs[0].EventState&stateMask, rs[0].ATR
		if r.State&(StateUnknown|StateUnavailable) != 0 {
			return r, fmt.Errorf("%s: %w", action, ErrReaderNotFound)
		}
	}
}

// Connect connects to the card in the reader chosen by selector (see
// Select), with protocol T=0 or T=1 as the ATR offers. The Card belongs to
// the Context's pcsc-lite context: close the Card before the Context.
func (c *Context) Connect(selector string, mode Mode) (*Card, error) {
	names, err := c.ReaderNames()
	if err != nil {
		return nil, err
	}
	name, err := Select(names, selector)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	action := fmt.Sprintf("connecting to %q (%v)", name, mode)
	if err := c.check(action); err != nil {
		return nil, err
	}
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	card := &Card{reader: name, mode: mode}
	var proto C.DWORD
	if err := code(C.SCardConnect(c.h, cname, mode.share(), C.SCARD_PROTOCOL_T0|C.SCARD_PROTOCOL_T1, &card.h, &proto)); err != nil {
		return nil, wrap(action, err)
	}
	card.proto.Store(uint32(proto))
	return card, nil
}
