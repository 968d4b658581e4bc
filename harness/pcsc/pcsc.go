// Package pcsc is the module's one binding of PC/SC (pcsc-lite's
// libpcsclite, PC/SC part 5): the harness Transport that reaches a card
// the way every real client does, the reader events suites wait for, and
// the calls the reader conformance suite judges a reader and its PC/SC
// stack by. Suites reach a physical My Number Card or the simulated one
// attached to pcscd's vpcd driver through it (docs/vpcd-pcscd.md §3).
//
// A Context lists readers with their state and ATR, picks a reader by exact
// name, index or substring (Select), waits for insertion and removal
// (WaitCard, WaitRemoved, or GetStatusChange itself), and connects. The
// Card it returns implements harness.Transport: Transmit is SCardTransmit,
// ATR is SCardStatus, Reset is SCardReconnect with SCARD_RESET_CARD (a warm
// reset, ISO/IEC 7816-3 clause 6.2.3), Close is SCardDisconnect. Begin and
// End wrap SCardBeginTransaction and SCardEndTransaction for exclusive
// access in shared mode; Control, GetAttrib and TransmitBuffer (SCardTransmit
// into a receive buffer of the caller's size) are what the conformance
// checks need beyond that.
//
// # Reader events from many goroutines
//
// Each GetStatusChange call keeps its reader states in C memory of its
// own, so any number of goroutines may wait at once, on one Context or on
// many. A Context's waits use a pcsc-lite context of their own beside the
// one its cards belong to: pcsc-lite serialises the calls of one context,
// and a wait there would hold up every transmit. Cancel (SCardCancel) ends a
// wait from another goroutine; Close cancels a wait under way, and refuses
// waits not yet begun.
//
// # Why this binding and no library underneath
//
// The module used github.com/ebfe/scard before. At the version it pinned,
// that library keeps the reader names of every SCardGetStatusChange call
// in one package-level map without a lock: two waits at once, on any
// contexts, stop the process ("fatal error: concurrent map writes"), and a
// name overwritten in the map can be collected while libpcsclite still
// reads it. Its SCardTransmit always receives into a 65548-byte buffer, so
// it cannot show what a too-small buffer does (conformance check R14), and
// it panics on an empty command or an unexpected protocol. It keeps its
// handles private, so the calls it got wrong needed contexts and
// connections of their own beside it: four PC/SC layers. Bound directly,
// the fifteen calls this module makes are a few lines each, share one set
// of handles and one error type, and no code of the module can reach the
// unsafe wait any more (TestOneBinding).
//
// # Errors
//
// Every failed call's error wraps what was being done, the sentinel of the
// code's class (errors.Is, the list at ErrNoService) and the code itself
// (errors.As with Error).
package pcsc

// #cgo pkg-config: libpcsclite
// #include <winscard.h>
// #include <reader.h>
import "C"

import (
	"fmt"
	"strconv"
	"strings"
)

// Version returns the version of the libpcsclite this package was built
// against ("1.9.9").
func Version() string { return C.PCSCLITE_VERSION_NUMBER }

// Mode is how Connect shares the card with other applications.
type Mode int

// Share modes (PC/SC part 5, SCardConnect dwShareMode).
const (
	Shared    Mode = iota // SCARD_SHARE_SHARED: others may connect; use Begin/End for atomic sequences
	Exclusive             // SCARD_SHARE_EXCLUSIVE: nobody else may connect while the Card is open
)

func (m Mode) share() C.DWORD {
	if m == Exclusive {
		return C.SCARD_SHARE_EXCLUSIVE
	}
	return C.SCARD_SHARE_SHARED
}

func (m Mode) String() string {
	if m == Exclusive {
		return "exclusive"
	}
	return "shared"
}

// Disposition is what happens to the card when a connection or a
// transaction ends (dwDisposition of SCardDisconnect, SCardReconnect,
// SCardEndTransaction).
type Disposition uint32

// Dispositions.
const (
	LeaveCard   Disposition = C.SCARD_LEAVE_CARD   // keep the card's state
	ResetCard   Disposition = C.SCARD_RESET_CARD   // warm reset
	UnpowerCard Disposition = C.SCARD_UNPOWER_CARD // cold reset: power off, then on again at the next use
)

// Protocol is a card protocol (SCARD_PROTOCOL_*).
type Protocol uint32

// Protocols. Connect and Reconnect offer both.
const (
	ProtocolT0 Protocol = C.SCARD_PROTOCOL_T0
	ProtocolT1 Protocol = C.SCARD_PROTOCOL_T1
)

// StateFlag is a reader state as SCardGetStatusChange reports it
// (SCARD_STATE_*); pcsc-lite counts the reader's card events in the upper
// 16 bits (docs/vpcd-pcscd.md §3.4).
type StateFlag uint32

// Reader states.
const (
	StateUnaware     StateFlag = C.SCARD_STATE_UNAWARE     // in CurrentState: report the state at once
	StateChanged     StateFlag = C.SCARD_STATE_CHANGED     // the state differs from CurrentState
	StateUnknown     StateFlag = C.SCARD_STATE_UNKNOWN     // pcscd does not know the reader
	StateUnavailable StateFlag = C.SCARD_STATE_UNAVAILABLE // the reader's state cannot be had
	StateEmpty       StateFlag = C.SCARD_STATE_EMPTY       // no card
	StatePresent     StateFlag = C.SCARD_STATE_PRESENT     // a card
	StateExclusive   StateFlag = C.SCARD_STATE_EXCLUSIVE   // an application holds the card exclusively
	StateInuse       StateFlag = C.SCARD_STATE_INUSE       // an application holds a connection to the card
	StateMute        StateFlag = C.SCARD_STATE_MUTE        // the card did not answer the reset
)

// CardState is a connected card's state as SCardStatus reports it
// (SCARD_ABSENT … SCARD_SPECIFIC, bits on pcsc-lite).
type CardState uint32

// Card states that say the card is powered.
const (
	Powered    CardState = C.SCARD_POWERED    // powered, protocol not yet known
	Negotiable CardState = C.SCARD_NEGOTIABLE // reset, awaiting PTS
	Specific   CardState = C.SCARD_SPECIFIC   // reset, protocol established
)

// Attrib is a reader attribute for GetAttrib (SCARD_ATTR_*, PC/SC part 3).
type Attrib uint32

// Reader attributes the conformance report records.
const (
	AttrVendorName        Attrib = C.SCARD_ATTR_VENDOR_NAME
	AttrVendorIFDType     Attrib = C.SCARD_ATTR_VENDOR_IFD_TYPE
	AttrVendorIFDVersion  Attrib = C.SCARD_ATTR_VENDOR_IFD_VERSION
	AttrVendorIFDSerialNo Attrib = C.SCARD_ATTR_VENDOR_IFD_SERIAL_NO
	AttrChannelID         Attrib = C.SCARD_ATTR_CHANNEL_ID
)

// GetFeatureRequest is the SCardControl code that asks a reader for its
// features (CM_IOCTL_GET_FEATURE_REQUEST, PC/SC part 10 §2.2).
const GetFeatureRequest uint32 = C.CM_IOCTL_GET_FEATURE_REQUEST

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
