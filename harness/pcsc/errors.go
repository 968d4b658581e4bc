package pcsc

// #cgo pkg-config: libpcsclite
// #include <winscard.h>
import "C"

import (
	"errors"
	"fmt"
	"sync"
)

// Error is a PC/SC return code as pcsc-lite defines it (SCARD_E_*,
// SCARD_W_*, SCARD_F_*; PC/SC part 5 §3.1). Every failed call of this
// package carries one in its error chain (errors.As) beside the sentinel
// of its class (errors.Is), so a report can show the exact code while a
// caller decides by class.
type Error uint32

// stringify serialises pcsc_stringify_error, which writes one static
// buffer in the pcsc-lite versions that do not keep it per thread.
var stringify sync.Mutex

// Error is pcsc-lite's text for the code ("Card was removed.").
func (e Error) Error() string {
	stringify.Lock()
	defer stringify.Unlock()
	return C.GoString(C.pcsc_stringify_error(C.LONG(e)))
}

// The codes classify maps; the rest reach callers as an Error only.
const (
	success             Error = C.SCARD_S_SUCCESS
	eNoService          Error = C.SCARD_E_NO_SERVICE
	eServiceStopped     Error = C.SCARD_E_SERVICE_STOPPED
	eNoReadersAvailable Error = C.SCARD_E_NO_READERS_AVAILABLE
	eUnknownReader      Error = C.SCARD_E_UNKNOWN_READER
	eReaderUnavailable  Error = C.SCARD_E_READER_UNAVAILABLE
	eNoSmartcard        Error = C.SCARD_E_NO_SMARTCARD
	wRemovedCard        Error = C.SCARD_W_REMOVED_CARD
	wResetCard          Error = C.SCARD_W_RESET_CARD
	wUnresponsiveCard   Error = C.SCARD_W_UNRESPONSIVE_CARD
	wUnpoweredCard      Error = C.SCARD_W_UNPOWERED_CARD
	eSharingViolation   Error = C.SCARD_E_SHARING_VIOLATION
	eNotTransacted      Error = C.SCARD_E_NOT_TRANSACTED
	eInsufficientBuffer Error = C.SCARD_E_INSUFFICIENT_BUFFER
	eTimeout            Error = C.SCARD_E_TIMEOUT
	eCancelled          Error = C.SCARD_E_CANCELLED
	eInvalidHandle      Error = C.SCARD_E_INVALID_HANDLE
)

// code turns a pcsc-lite return value into an error: nil for success.
func code(rc C.LONG) error {
	if e := Error(uint32(rc)); e != success {
		return e
	}
	return nil
}

// Errors: the class of every PC/SC code callers act on. A failed call's
// error wraps what was being done, the sentinel and the Error:
//
//	connecting to "Virtual PCD 00 00" (shared): card in use by another application: Sharing violation. (0x8010000B)
//
// The sentinels that say the environment, not the card or the reader's
// handling of it, is at fault: ErrNoService, ErrNoReaders,
// ErrReaderNotFound. The ones a client meets in a card's ordinary life
// and handles by reconnecting: ErrCardRemoved, ErrCardReset, ErrNoCard,
// ErrCardMute. Any code not listed here is an Error only.
var (
	// ErrNoService: pcscd is not running or not reachable
	// (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED).
	ErrNoService = errors.New("pcscd not running")
	// ErrNoReaders: pcscd knows no reader (SCARD_E_NO_READERS_AVAILABLE).
	ErrNoReaders = errors.New("no smart-card reader")
	// ErrReaderNotFound: no reader matches the selector, or the reader
	// named is unknown to pcscd or vanished, e.g. unplugged
	// (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE).
	ErrReaderNotFound = errors.New("reader not found")
	// ErrAmbiguousReader: a substring selector matches several readers.
	ErrAmbiguousReader = errors.New("reader selector is ambiguous")
	// ErrNoCard: the reader is empty (SCARD_E_NO_SMARTCARD).
	ErrNoCard = errors.New("no card in the reader")
	// ErrCardRemoved: the card was removed since the connection was made
	// (SCARD_W_REMOVED_CARD), or vanished in the middle of an exchange
	// (Card.Transmit, docs/vpcd-pcscd.md §3.4, §5.2). Reconnecting needs
	// a new Connect.
	ErrCardRemoved = errors.New("card removed")
	// ErrCardReset: another application reset the card, so its volatile
	// state (selected applet, verified PINs) is gone (SCARD_W_RESET_CARD).
	// Reset or Reconnect acknowledges it.
	ErrCardReset = errors.New("card reset by another application")
	// ErrCardMute: the card is present but did not answer the reset
	// (SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD, docs/vpcd-pcscd.md §4).
	ErrCardMute = errors.New("card does not respond")
	// ErrSharingViolation: another application holds the card exclusively
	// (SCARD_E_SHARING_VIOLATION).
	ErrSharingViolation = errors.New("card in use by another application")
	// ErrNotTransacted: End without a transaction, or the transaction was
	// lost to a removal or reset (SCARD_E_NOT_TRANSACTED).
	ErrNotTransacted = errors.New("no transaction")
	// ErrInsufficientBuffer: the response does not fit the receive buffer
	// (SCARD_E_INSUFFICIENT_BUFFER; Card.TransmitBuffer).
	ErrInsufficientBuffer = errors.New("receive buffer too small")
	// ErrTimeout: a wait ended before the reader reached the state
	// (SCARD_E_TIMEOUT).
	ErrTimeout = errors.New("timed out waiting for the reader")
	// ErrCancelled: the wait's context ended, or Cancel or Close ended it
	// (SCARD_E_CANCELLED).
	ErrCancelled = errors.New("wait cancelled")
	// ErrClosed: the Context was used after Close (a Card after Close
	// says harness.ErrClosed).
	ErrClosed = errors.New("pcsc handle closed")
)

// classify returns the sentinel for a PC/SC return code, or nil.
func classify(e Error) error {
	switch e {
	case eNoService, eServiceStopped:
		return ErrNoService
	case eNoReadersAvailable:
		return ErrNoReaders
	case eUnknownReader, eReaderUnavailable:
		return ErrReaderNotFound
	case eNoSmartcard:
		return ErrNoCard
	case wRemovedCard:
		return ErrCardRemoved
	case wResetCard:
		return ErrCardReset
	case wUnresponsiveCard, wUnpoweredCard:
		return ErrCardMute
	case eSharingViolation:
		return ErrSharingViolation
	case eNotTransacted:
		return ErrNotTransacted
	case eInsufficientBuffer:
		return ErrInsufficientBuffer
	case eTimeout:
		return ErrTimeout
	case eCancelled:
		return ErrCancelled
	}
	return nil
}

// wrap adds the action and the sentinel to a PC/SC error: "connecting to
// reader X: card removed: Card was removed. (0x80100069)". Other errors
// are only prefixed.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var e Error
	if errors.As(err, &e) {
		if s := classify(e); s != nil {
			return fmt.Errorf("%s: %w: %w (0x%08X)", action, s, err, uint32(e))
		}
		return fmt.Errorf("%s: %w (0x%08X)", action, err, uint32(e))
	}
	return fmt.Errorf("%s: %w", action, err)
}
