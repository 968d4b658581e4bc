package pcsc

import (
	"errors"
	"fmt"
	"testing"
	"time"
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

// Every code of the sentinel list classifies as documented, keeps its
// exact code in the chain, and names pcsc-lite's text; a code of no class
// is an Error only.
func TestWrapKeepsSentinelAndCode(t *testing.T) {
	for _, tc := range []struct {
		code Error
		want error
		text string
	}{
		{eNoService, ErrNoService, "Service not available."},
		{eServiceStopped, ErrNoService, ""},
		{eNoReadersAvailable, ErrNoReaders, ""},
		{eUnknownReader, ErrReaderNotFound, ""},
		{eReaderUnavailable, ErrReaderNotFound, ""},
		{eNoSmartcard, ErrNoCard, ""},
		{wRemovedCard, ErrCardRemoved, "Card was removed."},
		{wResetCard, ErrCardReset, ""},
		{wUnresponsiveCard, ErrCardMute, ""},
		{wUnpoweredCard, ErrCardMute, ""},
		{eSharingViolation, ErrSharingViolation, "Sharing violation."},
		{eNotTransacted, ErrNotTransacted, ""},
		{eInsufficientBuffer, ErrInsufficientBuffer, ""},
		{eTimeout, ErrTimeout, ""},
		{eCancelled, ErrCancelled, ""},
		{eInvalidHandle, nil, "Invalid handle."},
	} {
		t.Run(fmt.Sprintf("%08X", uint32(tc.code)), func(t *testing.T) {
			err := wrap("transmitting APDU", tc.code)
			if got := classify(tc.code); got != tc.want {
				t.Errorf("classify = %v, want %v", got, tc.want)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%v does not match %v", err, tc.want)
			}
			var code Error
			if !errors.As(err, &code) || code != tc.code {
				t.Errorf("%v: code lost (got %08X)", err, uint32(code))
			}
			if got, want := err.Error()[:len("transmitting APDU: ")], "transmitting APDU: "; got != want {
				t.Errorf("%q does not start with the action", err)
			}
			if tc.text != "" && tc.code.Error() != tc.text {
				t.Errorf("text %q, want %q", tc.code.Error(), tc.text)
			}
		})
	}
	if wrap("x", nil) != nil {
		t.Error("wrap of nil is not nil")
	}
	if code(0) != nil {
		t.Error("SCARD_S_SUCCESS is an error")
	}
}

// The control code is the one PC/SC part 10 §2.2 gives readers:
// SCARD_CTL_CODE(3400) on pcsc-lite. A reader refuses an unknown code just
// as vpcd refuses this one, so only the value tells.
func TestGetFeatureRequest(t *testing.T) {
	if GetFeatureRequest != 0x42000000+3400 {
		t.Errorf("GetFeatureRequest = %#x, want SCARD_CTL_CODE(3400) = %#x", GetFeatureRequest, 0x42000000+3400)
	}
}

func TestStateString(t *testing.T) {
	for _, tc := range []struct {
		state StateFlag
		want  string
	}{
		{StateEmpty, "empty"},
		{StatePresent, "present"},
		{StatePresent | StateInuse, "present, in use"},
		{StatePresent | StateInuse | StateExclusive, "present, exclusive"},
		{StatePresent | StateMute, "mute"},
		{StateUnavailable, "unavailable"},
	} {
		if got := (ReaderInfo{State: tc.state}).StateString(); got != tc.want {
			t.Errorf("StateString(%#x) = %q, want %q", tc.state, got, tc.want)
		}
	}
	if got := (ReaderInfo{ATR: []byte{0x3B, 0xE0, 0x00}}).ATRHex(); got != "3B E0 00" {
		t.Errorf("ATRHex = %q", got)
	}
}

func TestTimeoutMillis(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want uint32
	}{
		{-1, 0xFFFFFFFF},
		{0, 0},
		{999 * time.Microsecond, 0},
		{1500 * time.Millisecond, 1500},
		{0xFFFFFFFF * time.Millisecond, 0xFFFFFFFF},
		{0x100000000 * time.Millisecond, 0xFFFFFFFE},
	} {
		if got := timeoutMillis(c.d); got != c.want {
			t.Errorf("timeoutMillis(%v) = %#x, want %#x", c.d, got, c.want)
		}
	}
}
