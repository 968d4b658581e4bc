package pcscdenv

import (
	"context"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/vpcd"
)

// ReaderName returns the pcscd reader of vpcd slot n (vpcd.ReaderName:
// "Virtual PCD 00 0n" for Debian's config, docs/vpcd-pcscd.md §6.2).
func ReaderName(slot int) string { return vpcd.ReaderName(slot) }

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
