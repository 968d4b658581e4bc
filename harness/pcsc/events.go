package pcsc

// #cgo pkg-config: libpcsclite
// #include <stdlib.h>
// #include <winscard.h>
import "C"

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ReaderState is one reader of a GetStatusChange call: the caller names
// the reader and the state it believes (StateUnaware to learn it at once),
// the call fills in EventState and ATR (SCARD_READERSTATE, PC/SC part 5).
type ReaderState struct {
	Reader       string
	CurrentState StateFlag
	EventState   StateFlag
	ATR          []byte
}

// events is the pcsc-lite context a Context waits for reader events on
// (SCardGetStatusChange and SCardCancel only; package doc). Reader states
// are pcscd's, not a context's: it sees the same events as the context the
// cards belong to.
type events struct {
	mu sync.Mutex // serialises waits on the context, as pcsc-lite requires
	h  C.SCARDCONTEXT
	// closing is set when release begins: a wait that has not begun then
	// refuses to. released is set once the context is gone, under mu;
	// cancel reads it without mu.
	closing, released atomic.Bool
}

// maxATR is the size of SCARD_READERSTATE.rgbAtr (MAX_ATR_SIZE).
const maxATR = C.MAX_ATR_SIZE

// getStatusChange is SCardGetStatusChange: it blocks until the state of
// one of states differs from its CurrentState, or timeout passes (a
// negative timeout waits for ever), and fills in EventState and ATR. The
// error is the bare Error, or ErrClosed.
func (e *events) getStatusChange(states []ReaderState, timeout time.Duration) error {
	if len(states) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing.Load() {
		return ErrClosed
	}
	// The states live in C memory of this call's own: they hold pointers
	// (the reader names) that libpcsclite reads for the whole wait.
	n := len(states)
	size := C.size_t(n) * C.size_t(unsafe.Sizeof(C.SCARD_READERSTATE{}))
	cs := unsafe.Slice((*C.SCARD_READERSTATE)(C.calloc(1, size)), n)
	defer C.free(unsafe.Pointer(&cs[0]))
	for i, s := range states {
		name := C.CString(s.Reader)
		defer C.free(unsafe.Pointer(name))
		cs[i].szReader = name
		cs[i].dwCurrentState = C.DWORD(s.CurrentState)
		atr := min(len(s.ATR), maxATR)
		for j := range atr {
			cs[i].rgbAtr[j] = C.uchar(s.ATR[j])
		}
		cs[i].cbAtr = C.DWORD(atr)
	}
	if err := code(C.SCardGetStatusChange(e.h, C.DWORD(timeoutMillis(timeout)), &cs[0], C.DWORD(n))); err != nil {
		return err
	}
	for i := range states {
		states[i].EventState = StateFlag(uint32(cs[i].dwEventState))
		if l := min(int(cs[i].cbAtr), maxATR); l > 0 {
			atr := make([]byte, l)
			for j := range atr {
				atr[j] = byte(cs[i].rgbAtr[j])
			}
			states[i].ATR = atr
		}
	}
	return nil
}

// timeoutMillis converts a timeout to SCardGetStatusChange's dwTimeout:
// negative is INFINITE, anything longer is the longest finite wait.
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

// cancel ends a getStatusChange blocked on the context with
// ErrCancelled (SCardCancel). It is the one call pcsc-lite allows while
// another thread is inside the context. A cancel made before the wait has
// reached pcscd does nothing (pcsc-lite cancels only a wait under way).
func (e *events) cancel() error {
	if e.released.Load() {
		return ErrClosed
	}
	return code(C.SCardCancel(e.h))
}

// cancelEvery is how often release repeats SCardCancel while a wait holds
// the context: one cancel can come before that wait reaches pcscd.
const cancelEvery = 10 * time.Millisecond

// release ends a wait in progress (ErrCancelled) and releases the context
// (SCardReleaseContext). A wait begun after release returns ErrClosed.
// Releasing twice is harmless.
func (e *events) release() error {
	e.closing.Store(true)
	locked := make(chan struct{})
	go func() {
		e.mu.Lock()
		close(locked)
	}()
	tick := time.NewTicker(cancelEvery)
	defer tick.Stop()
	for done := false; !done; {
		_ = e.cancel()
		select {
		case <-locked:
			done = true
		case <-tick.C:
		}
	}
	defer e.mu.Unlock()
	if e.released.Load() {
		return nil
	}
	e.released.Store(true)
	return code(C.SCardReleaseContext(e.h))
}
