package pcscdenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/vpcd"
)

// ReaderName returns the pcscd reader of vpcd slot n (vpcd.ReaderName:
// "Virtual PCD 00 0n" for Debian's config, docs/vpcd-pcscd.md §6.2).
func ReaderName(slot int) string { return vpcd.ReaderName(slot) }

// Attached is a card served on a vpcd slot: inserted into a reader of the
// running pcscd.
type Attached struct {
	Side   *vpcd.CardSide
	Reader string // the pcscd reader name of the slot
	cancel context.CancelFunc
	done   chan error
}

// QuietLogger logs warnings and errors only, to stderr: connection
// chatter stays out of test output, protocol trouble does not.
func QuietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Attach serves card on vpcd slot n (dialling 127.0.0.1:35963+n, §1.2) and
// waits until pcscd reports it present with card's ATR. Options go to
// vpcd.NewCardSide after the slot and a quiet logger. Detach undoes it.
//
// A pcscd shared between test processes (a developer's running pcscd, or
// one with-pcscd keeps for a whole run) may still report the card of the
// previous process for up to one presence poll after that process ended
// (§3.4): Attach first waits for the reader to be seen empty, so it never
// mistakes the old card for the new one.
func Attach(ctx context.Context, card vpcd.Card, slot int, opts ...vpcd.Option) (*Attached, error) {
	reader := ReaderName(slot)
	if err := WaitState(ctx, reader, false); err != nil {
		return nil, fmt.Errorf("attaching card to %q: waiting for the previous card to be gone: %w", reader, err)
	}
	opts = append([]vpcd.Option{vpcd.WithSlot(slot), vpcd.WithLogger(QuietLogger())}, opts...)
	side := vpcd.NewCardSide(card, opts...)
	rctx, cancel := context.WithCancel(context.Background())
	a := &Attached{Side: side, Reader: reader, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- side.Run(rctx) }()
	if err := WaitState(ctx, reader, true); err != nil {
		_ = a.Detach(ctx)
		return nil, fmt.Errorf("attaching card to %q: %w", reader, err)
	}
	return a, nil
}

// Detach stops serving the card (vpcd sees EOF: removal, §3.4) and waits
// until pcscd reports the reader empty.
func (a *Attached) Detach(ctx context.Context) error {
	a.cancel()
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("detaching card from %q: %w", a.Reader, ctx.Err())
	}
	if err := WaitState(ctx, a.Reader, false); err != nil && !errors.Is(err, pcsc.ErrNoService) {
		return fmt.Errorf("detaching card from %q: %w", a.Reader, err)
	}
	return nil
}

// WaitState waits until reader has a card (present) or is empty (!present),
// with its own PC/SC context. A card present but mute is an error.
func WaitState(ctx context.Context, reader string, present bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
	}
	c, err := pcsc.Establish()
	if err != nil {
		return err
	}
	defer c.Close()
	if present {
		_, err = c.WaitCard(ctx, reader)
	} else {
		_, err = c.WaitRemoved(ctx, reader)
	}
	return err
}
