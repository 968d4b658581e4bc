package pcsc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ebfe/scard"
)

func TestSelect(t *testing.T) {
	readers := []string{"Virtual PCD 00 00", "Virtual PCD 00 01", "SCM Microsystems SCR 3310 [CCID] 02 00", "1"}
	for _, tc := range []struct {
		name     string
		names    []string
		selector string
		want     string
		err      error
	}{
		{"exact name", readers, "Virtual PCD 00 01", "Virtual PCD 00 01", nil},
		{"exact name wins over index", readers, "1", "1", nil},
		{"index", readers, "0", "Virtual PCD 00 00", nil},
		{"last index", readers, "3", "1", nil},
		{"index out of range", readers, "4", "", ErrReaderNotFound},
		{"negative index", readers, "-1", "", ErrReaderNotFound},
		{"unique substring", readers, "scr 3310", "SCM Microsystems SCR 3310 [CCID] 02 00", nil},
		{"substring, case-insensitive", readers, "pcd 00 01", "Virtual PCD 00 01", nil},
		{"ambiguous substring", readers, "Virtual", "", ErrAmbiguousReader},
		{"no match", readers, "ACR122", "", ErrReaderNotFound},
		{"empty selector, one reader", readers[:1], "", "Virtual PCD 00 00", nil},
		{"empty selector, several readers", readers, "", "", ErrAmbiguousReader},
		{"no readers", nil, "0", "", ErrNoReaders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(tc.names, tc.selector)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Select(%q) error = %v, want %v", tc.selector, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("Select(%q) = %q, want %q", tc.selector, got, tc.want)
			}
		})
	}
}

func TestWrapKeepsSentinelAndCode(t *testing.T) {
	for _, tc := range []struct {
		code scard.Error
		want error
	}{
		{scard.ErrRemovedCard, ErrCardRemoved},
		{scard.ErrResetCard, ErrCardReset},
		{scard.ErrNoService, ErrNoService},
		{scard.ErrNoSmartcard, ErrNoCard},
		{scard.ErrSharingViolation, ErrSharingViolation},
		{scard.ErrUnresponsiveCard, ErrCardMute},
		{scard.ErrUnknownReader, ErrReaderNotFound},
		{scard.ErrTimeout, ErrTimeout},
		{scard.ErrCancelled, ErrCancelled},
		{scard.ErrNotTransacted, nil},
	} {
		t.Run(fmt.Sprintf("%08X", uint32(tc.code)), func(t *testing.T) {
			err := wrap("transmitting APDU", tc.code)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%v does not match %v", err, tc.want)
			}
			var code scard.Error
			if !errors.As(err, &code) || code != tc.code {
				t.Errorf("%v: scard code lost (got %08X)", err, uint32(code))
			}
			if got, want := err.Error()[:len("transmitting APDU: ")], "transmitting APDU: "; got != want {
				t.Errorf("%q does not start with the action", err)
			}
		})
	}
	if wrap("x", nil) != nil {
		t.Error("wrap of nil is not nil")
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		state scard.StateFlag
		want  string
	}{
		{scard.StateEmpty, "empty"},
		{scard.StatePresent, "present"},
		{scard.StatePresent | scard.StateInuse, "present, in use"},
		{scard.StatePresent | scard.StateInuse | scard.StateExclusive, "present, exclusive"},
		{scard.StatePresent | scard.StateMute, "mute"},
		{scard.StateUnavailable, "unavailable"},
	} {
		if got := (ReaderInfo{State: tc.state}).StateString(); got != tc.want {
			t.Errorf("StateString(%#x) = %q, want %q", tc.state, got, tc.want)
		}
	}
	if got := (ReaderInfo{ATR: []byte{0x3B, 0xE0, 0x00}}).ATRHex(); got != "3B E0 00" {
		t.Errorf("ATRHex = %q", got)
	}
}
