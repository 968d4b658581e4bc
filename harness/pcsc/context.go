package pcsc

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/mynahil/mynahil/harness/readerstate"
)

// Context is a PC/SC resource-manager context (SCardEstablishContext). It
// is safe for concurrent use: pcsc-lite serialises calls on one context, so
// Context does too, except Close, which cancels a blocked wait first.
//
// Waits (WaitCard, WaitRemoved) block the context while they run; a suite
// that transmits while it waits should open a second Context for waiting.
type Context struct {
	mu  sync.Mutex // held by every call into pcsc-lite but Cancel
	ctx *scard.Context
	// status answers SCardGetStatusChange and SCardCancel: github.com/ebfe/scard's
	// GetStatusChange is not safe with other goroutines (package readerstate).
	status *readerstate.Context
	closed bool
}

// Establish connects to pcscd. It fails with ErrNoService when pcscd does
// not run.
func Establish() (*Context, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establishing PC/SC context", err)
	}
	st, err := readerstate.Establish()
	if err != nil {
		_ = c.Release()
		return nil, wrap("opening the context for reader events", err)
	}
	return &Context{ctx: c, status: st}, nil
}

// Close cancels any blocked wait and releases the context. Cards connected
// through it stay usable until their own Close only as far as pcsc-lite
// allows: close cards first.
func (c *Context) Close() error {
	if c.ctx == nil {
		return nil
	}
	_ = c.status.Cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return errors.Join(wrap("releasing PC/SC context", c.ctx.Release()), wrap("releasing PC/SC context", c.status.Release()))
}

func (c *Context) lock(action string) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fmt.Errorf("%s: %w", action, ErrClosed)
	}
	return nil
}

// ReaderNames lists the readers pcscd knows, in pcscd's order (the order
// Select's indices refer to). No reader is an empty list, not an error.
func (c *Context) ReaderNames() ([]string, error) {
	if err := c.lock("listing readers"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	return c.readerNames()
}

func (c *Context) readerNames() ([]string, error) {
	names, err := c.ctx.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("listing readers", err)
	}
	return names, nil
}

// ReaderInfo is one reader as SCardGetStatusChange reports it.
type ReaderInfo struct {
	Name  string
	Index int             // position in ReaderNames, as Select counts
	State scard.StateFlag // SCARD_STATE_* flags, event counter removed
	ATR   []byte          // empty when no card is present
}

// Present reports whether a card is in the reader.
func (r ReaderInfo) Present() bool { return r.State&scard.StatePresent != 0 }

// Mute reports whether the card present did not answer the reset.
func (r ReaderInfo) Mute() bool { return r.State&scard.StateMute != 0 }

// Exclusive reports whether an application holds the card exclusively.
func (r ReaderInfo) Exclusive() bool { return r.State&scard.StateExclusive != 0 }

// InUse reports whether an application holds a connection to the card.
func (r ReaderInfo) InUse() bool { return r.State&scard.StateInuse != 0 }

// StateString describes the state for people: "empty", "present",
// "present, in use", "mute", "unavailable".
func (r ReaderInfo) StateString() string {
	var parts []string
	switch {
	case r.State&scard.StateUnavailable != 0:
		return "unavailable"
	case r.State&scard.StateEmpty != 0:
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
	if err := c.lock("listing readers"); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	names, err := c.readerNames()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := c.status.GetStatusChange(states, 0); err != nil {
		return nil, wrap("reading reader states", err)
	}
	out := make([]ReaderInfo, len(names))
	for i, s := range states {
		out[i] = ReaderInfo{Name: s.Reader, Index: i, State: s.EventState & stateMask, ATR: append([]byte(nil), s.Atr...)}
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
// and returns its state. It ends with an error wrapping ErrCancelled or the
// context's error when ctx ends, and ErrCardMute when the card present
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
		_ = c.status.Cancel()
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
		rs := []scard.ReaderState{{Reader: r.Name, CurrentState: state}}
		if err := c.lock(action); err != nil {
			return r, err
		}
		err := c.status.GetStatusChange(rs, timeout)
		c.mu.Unlock()
		switch {
		case errors.Is(err, scard.ErrTimeout):
			continue
		case errors.Is(err, scard.ErrCancelled) && ctx.Err() != nil:
			return r, fmt.Errorf("%s: %w: %w", action, ErrCancelled, ctx.Err())
		case err != nil:
			return r, wrap(action, err)
		}
		state = rs[0].EventState &^ scard.StateChanged
		r.State, r.ATR = rs[0].EventState&stateMask, append([]byte(nil), rs[0].Atr...)
		if r.State&(scard.StateUnknown|scard.StateUnavailable) != 0 {
			return r, fmt.Errorf("%s: %w", action, ErrReaderNotFound)
		}
	}
}

// Mode is how Connect shares the card with other applications.
type Mode int

// Share modes (PC/SC part 5, SCardConnect dwShareMode).
const (
	Shared    Mode = iota // SCARD_SHARE_SHARED: others may connect; use Begin/End for atomic sequences
	Exclusive             // SCARD_SHARE_EXCLUSIVE: nobody else may connect while the Card is open
)

func (m Mode) scard() scard.ShareMode {
	if m == Exclusive {
		return scard.ShareExclusive
	}
	return scard.ShareShared
}

func (m Mode) String() string {
	if m == Exclusive {
		return "exclusive"
	}
	return "shared"
}

// Connect connects to the card in the reader chosen by selector (see
// Select), with protocol T=0 or T=1 as the ATR offers. The Card shares the
// Context's pcsc-lite context; close the Card before the Context.
func (c *Context) Connect(selector string, mode Mode) (*Card, error) {
	names, err := c.ReaderNames()
	if err != nil {
		return nil, err
	}
	name, err := Select(names, selector)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if err := c.lock("connecting to " + name); err != nil {
		return nil, err
	}
	h, err := c.ctx.Connect(name, mode.scard(), scard.ProtocolAny)
	c.mu.Unlock()
	if err != nil {
		return nil, wrap(fmt.Sprintf("connecting to %q (%v)", name, mode), err)
	}
	return &Card{h: h, reader: name, mode: mode}, nil
}
