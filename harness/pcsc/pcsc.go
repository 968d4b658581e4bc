// Package pcsc is the harness Transport over PC/SC (pcsc-lite's
// libpcsclite, through github.com/ebfe/scard): the way every real client
// reaches a card, and the way suites reach a physical My Number Card or the
// simulated one attached to pcscd's vpcd driver (docs/vpcd-pcscd.md §3).
//
// A Context lists readers with their state and ATR, picks a reader by exact
// name, index or substring (Select), waits for insertion and removal with
// SCardGetStatusChange, and connects. The Card it returns implements
// harness.Transport: Transmit is SCardTransmit, ATR is SCardStatus, Reset is
// SCardReconnect with SCARD_RESET_CARD (a warm reset, ISO/IEC 7816-3 clause
// 6.2.3), Close is SCardDisconnect. Begin/End wrap SCardBeginTransaction and
// SCardEndTransaction for exclusive access in shared mode.
//
// PC/SC return codes are kept in the error chain (errors.As with
// scard.Error) and mapped to the sentinels below, so callers can test
// errors.Is(err, pcsc.ErrCardRemoved) without knowing pcsc-lite's codes.
package pcsc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ebfe/scard"
)

// Errors. PC/SC failures are wrapped with what was being done, the matching
// sentinel and the original scard.Error.
var (
	// ErrNoService: pcscd is not running or not reachable
	// (SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED).
	ErrNoService = errors.New("pcscd not running")
	// ErrNoReaders: pcscd knows no reader (SCARD_E_NO_READERS_AVAILABLE).
	ErrNoReaders = errors.New("no smart-card reader")
	// ErrReaderNotFound: no reader matches the selector, or the reader
	// vanished (SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE).
	ErrReaderNotFound = errors.New("reader not found")
	// ErrAmbiguousReader: a substring selector matches several readers.
	ErrAmbiguousReader = errors.New("reader selector is ambiguous")
	// ErrNoCard: the reader is empty (SCARD_E_NO_SMARTCARD).
	ErrNoCard = errors.New("no card in the reader")
	// ErrCardRemoved: the card was removed since the connection was made
	// (SCARD_W_REMOVED_CARD), or vanished in the middle of an exchange
	// (docs/vpcd-pcscd.md §3.4, §5.2). Reconnecting needs a new Connect.
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
	// ErrTimeout: a wait ended before the reader reached the state
	// (SCARD_E_TIMEOUT).
	ErrTimeout = errors.New("timed out waiting for the reader")
	// ErrCancelled: the wait's context ended (SCARD_E_CANCELLED).
	ErrCancelled = errors.New("wait cancelled")
	// ErrClosed: the Card or Context was used after Close.
	ErrClosed = errors.New("pcsc handle closed")
)

// classify returns the sentinel for a PC/SC return code, or nil.
func classify(code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped:
		return ErrNoService
	case scard.ErrNoReadersAvailable:
		return ErrNoReaders
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return ErrReaderNotFound
	case scard.ErrNoSmartcard:
		return ErrNoCard
	case scard.ErrRemovedCard:
		return ErrCardRemoved
	case scard.ErrResetCard:
		return ErrCardReset
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard:
		return ErrCardMute
	case scard.ErrSharingViolation:
		return ErrSharingViolation
	case scard.ErrTimeout:
		return ErrTimeout
	case scard.ErrCancelled:
		return ErrCancelled
	}
	return nil
}

// wrap adds the action and the sentinel to a PC/SC error: "connecting to
// reader X: card removed: Card was removed." Non-PC/SC errors are only
// prefixed.
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var code scard.Error
	if errors.As(err, &code) {
		if s := classify(code); s != nil {
			return fmt.Errorf("%s: %w: %w (0x%08X)", action, s, err, uint32(code))
		}
		return fmt.Errorf("%s: %w (0x%08X)", action, err, uint32(code))
	}
	return fmt.Errorf("%s: %w", action, err)
}

// Select picks one reader from names by a selector, in this order:
//
//  1. exact name ("Virtual PCD 00 00");
//  2. index, a decimal number below len(names) ("0");
//  3. case-insensitive substring matching exactly one reader ("pcd 00 01",
//     "SCR3310").
//
// An empty selector picks the only reader, and is ambiguous with several.
func Select(names []string, selector string) (string, error) {
	if len(names) == 0 {
		return "", fmt.Errorf("selecting reader %q: %w", selector, ErrNoReaders)
	}
	if selector == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		return "", fmt.Errorf("selecting reader: %w: %d readers (%s); name one", ErrAmbiguousReader, len(names), quoteAll(names))
	}
	for _, n := range names {
		if n == selector {
			return n, nil
		}
	}
	if i, err := strconv.Atoi(selector); err == nil {
		if i < 0 || i >= len(names) {
			return "", fmt.Errorf("selecting reader %d: %w: there are %d readers (%s)", i, ErrReaderNotFound, len(names), quoteAll(names))
		}
		return names[i], nil
	}
	var found []string
	lower := strings.ToLower(selector)
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), lower) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("selecting reader %q: %w among %s", selector, ErrReaderNotFound, quoteAll(names))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("selecting reader %q: %w: matches %s", selector, ErrAmbiguousReader, quoteAll(found))
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
