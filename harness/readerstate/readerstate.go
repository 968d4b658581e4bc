// Package readerstate waits for reader events (SCardGetStatusChange, PC/SC
// part 5 §3.1.3) through its own libpcsclite binding, safe to call from
// many goroutines at once.
//
// github.com/ebfe/scard, at the version this module pins, keeps the reader
// names of every SCardGetStatusChange call in one package-level map with no
// lock: two calls in flight at once, on any contexts, write that map
// concurrently, and the Go runtime stops the whole process ("fatal error:
// concurrent map writes"; a test run died that way with several goroutines
// waiting for the card). A call that overwrites another's entry also lets
// the collector free a reader name libpcsclite is still reading. This
// package allocates each call's reader states in C memory of its own, so
// calls share nothing. Every other PC/SC call still goes through
// github.com/ebfe/scard; a test of this module checks that no code calls
// that library's GetStatusChange.
package readerstate

// #cgo pkg-config: libpcsclite
// #include <stdlib.h>
// #include <string.h>
// #include <winscard.h>
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ebfe/scard"
)

// Context is a libpcsclite context (SCardEstablishContext) used for
// SCardGetStatusChange and SCardCancel only. Reader states are pcscd's,
// not a context's: a Context sees the same events as the context a card
// is connected through. Cancel may be called while another goroutine is
// blocked in GetStatusChange; Release cancels such a wait first.
type Context struct {
	mu sync.Mutex // serialises calls on the context, as pcsc-lite requires
	h  C.SCARDCONTEXT
	// closing is set when Release begins: a wait that has not begun then
	// refuses to. released is set once the context is gone, under mu;
	// Cancel reads it without mu.
	closing, released atomic.Bool
}

// ErrReleased is returned by calls on a released Context.
var ErrReleased = errors.New("PC/SC status context released")

// Establish opens a context with pcscd (SCARD_SCOPE_SYSTEM). Errors wrap
// scard.Error, so errors.Is(err, scard.ErrNoService) tells that pcscd does
// not run.
func Establish() (*Context, error) {
	var h C.SCARDCONTEXT
	if rc := C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &h); rc != C.SCARD_S_SUCCESS {
		return nil, fmt.Errorf("establishing PC/SC status context: %w", scard.Error(uint32(rc)))
	}
	return &Context{h: h}, nil
}

// maxATR is the size of SCARD_READERSTATE.rgbAtr (MAX_ATR_SIZE).
const maxATR = C.MAX_ATR_SIZE

// GetStatusChange is SCardGetStatusChange with the calling convention of
// github.com/ebfe/scard's method of that name: it blocks until the state
// of one of states differs from its CurrentState, or timeout passes (a
// negative timeout waits forever), and fills in EventState and Atr. The
// error is the scard.Error libpcsclite returned (scard.ErrTimeout,
// scard.ErrCancelled, ...), unwrapped, so callers compare it as they did.
func (c *Context) GetStatusChange(states []scard.ReaderState, timeout time.Duration) error {
	if len(states) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return ErrReleased
	}
	n := len(states)
	size := C.size_t(n) * C.size_t(unsafe.Sizeof(C.SCARD_READERSTATE{}))
	cs := unsafe.Slice((*C.SCARD_READERSTATE)(C.calloc(1, size)), n)
	defer C.free(unsafe.Pointer(&cs[0]))
	for i, s := range states {
		name := C.CString(s.Reader)
		defer C.free(unsafe.Pointer(name))
		cs[i].szReader = name
		cs[i].dwCurrentState = C.DWORD(s.CurrentState)
		atr := min(len(s.Atr), maxATR)
		for j := 0; j < atr; j++ {
			cs[i].rgbAtr[j] = C.uchar(s.Atr[j])
		}
		cs[i].cbAtr = C.DWORD(atr)
	}
	if rc := C.SCardGetStatusChange(c.h, C.DWORD(timeoutMillis(timeout)), &cs[0], C.DWORD(n)); rc != C.SCARD_S_SUCCESS {
		return scard.Error(uint32(rc))
	}
	for i := range states {
		states[i].EventState = scard.StateFlag(uint32(cs[i].dwEventState))
		if l := min(int(cs[i].cbAtr), maxATR); l > 0 {
			atr := make([]byte, l)
			for j := range atr {
				atr[j] = byte(cs[i].rgbAtr[j])
			}
			states[i].Atr = atr
		}
	}
	return nil
}

// timeoutMillis converts a timeout as github.com/ebfe/scard does: negative
// is INFINITE, anything longer is the longest finite wait.
func timeoutMillis(d time.Duration) uint32 {
	const infinite = 0xFFFFFFFF
	switch {
	case d < 0:
		return infinite
	case d > infinite*time.Millisecond:
		return infinite - 1
	default:
		return uint32(d / time.Millisecond)
	}
}

// Cancel ends a GetStatusChange blocked on this context with
// scard.ErrCancelled (SCardCancel). It is the one call allowed while
// another goroutine is inside the context. A Cancel made before the wait
// has reached pcscd does nothing (pcsc-lite cancels only a wait under way).
func (c *Context) Cancel() error {
	if c.released.Load() {
		return ErrReleased
	}
	if rc := C.SCardCancel(c.h); rc != C.SCARD_S_SUCCESS {
		return fmt.Errorf("cancelling PC/SC wait: %w", scard.Error(uint32(rc)))
	}
	return nil
}

// cancelEvery is how often Release repeats SCardCancel while a wait holds
// the context: one cancel can come before that wait reaches pcscd.
const cancelEvery = 10 * time.Millisecond

// Release ends a wait in progress (scard.ErrCancelled) and releases the
// context (SCardReleaseContext). A wait begun after Release returns
// ErrReleased. Releasing twice is harmless.
func (c *Context) Release() error {
	c.closing.Store(true)
	locked := make(chan struct{})
	go func() {
		c.mu.Lock()
		close(locked)
	}()
	tick := time.NewTicker(cancelEvery)
	defer tick.Stop()
	for done := false; !done; {
		_ = c.Cancel()
		select {
		case <-locked:
			done = true
		case <-tick.C:
		}
	}
	defer c.mu.Unlock()
	if c.released.Load() {
		return nil
	}
	c.released.Store(true)
	if rc := C.SCardReleaseContext(c.h); rc != C.SCARD_S_SUCCESS {
		return fmt.Errorf("releasing PC/SC status context: %w", scard.Error(uint32(rc)))
	}
	return nil
}
