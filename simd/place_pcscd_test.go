package simd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// otherATR is a built-in ATR other than the default, so that PC/SC tells
// the two cards apart.
func otherATR(t *testing.T) (string, []byte) {
	for _, n := range profile.ATRNames() {
		p := profile.Default()
		p.ATR = n
		b, err := p.ATRBytes()
		if err == nil && b != nil && !bytes.Equal(b, card.DefaultATR) {
			return n, b
		}
	}
	t.Fatal("no built-in ATR other than the default")
	return "", nil
}

// TestPlaceThroughPCSCD swaps cards in one reader with sim.place through
// the real pcscd + vpcd: a PC/SC client waiting on the reader sees the old
// card leave, then the new card (its ATR) arrive; the old connection is
// dead; the old card is detached (slot -1).
func TestPlaceThroughPCSCD(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd")
	}
	pcscdenv.Require(t)
	const slot = 1
	reader := ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	d, err := Open(Config{StateDir: shortTempDir(t), FirstSlot: slot, Backoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		<-done
		_ = pcscdenv.WaitState(context.Background(), reader, false)
	}()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("first card never appeared: %v", err)
	}
	cl, err := control.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	atrName, atr := otherATR(t)
	prof, _ := json.Marshal(map[string]string{"atr": atrName})
	var issued struct {
		ID string `json:"id"`
	}
	if err := cl.Call(ctx, "office.issue-card", simapi.IssueParams{Profile: prof}, &issued); err != nil {
		t.Fatal(err)
	}
	old, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if got, _ := old.ATR(); !bytes.Equal(got, card.DefaultATR) {
		t.Fatalf("first card's ATR % X, want % X", got, card.DefaultATR)
	}
	// Watch the reader from before the swap: removal, then a card.
	seen := make(chan error, 1)
	watching := make(chan struct{})
	go func() {
		pc, err := pcsc.Establish()
		if err != nil {
			seen <- err
			return
		}
		defer pc.Close()
		close(watching)
		if _, err := pc.WaitRemoved(ctx, reader); err != nil {
			seen <- err
			return
		}
		_, err = pc.WaitCard(ctx, reader)
		seen <- err
	}()
	<-watching
	s := slot
	var out []SlotInfo
	if err := cl.Call(ctx, "sim.place", Placement{Card: issued.ID, Slot: &s}, &out); err != nil {
		t.Fatalf("sim.place: %v", err)
	}
	if len(out) != 2 || out[0].Card != issued.ID || out[0].Slot != slot || !out[0].Inserted || out[1].Slot != -1 || out[1].Inserted {
		t.Fatalf("sim.place = %+v, want the new card in slot %d and the old one in slot -1", out, slot)
	}
	if err := <-seen; err != nil {
		t.Fatalf("a PC/SC client did not see the removal then the new card: %v", err)
	}
	if _, err := old.Transmit(selectJPKI); err == nil {
		t.Error("the old card's connection still answers after the swap")
	}
	c, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, _ := c.ATR(); !bytes.Equal(got, atr) {
		t.Errorf("ATR in %q after sim.place: % X, want the new card's % X", reader, got, atr)
	}
	if resp, err := c.Transmit(selectJPKI); err != nil || sw(resp) != 0x9000 {
		t.Errorf("SELECT JPKI on the placed card: % X, %v", resp, err)
	}
	// The old card is in no slot: inserting it by ID is refused.
	var ce *control.Error
	if err := cl.Call(ctx, "sim.insert", Selector{Card: out[1].Card}, nil); !errors.As(err, &ce) || ce.Rule != RuleUnknownSlot {
		t.Errorf("sim.insert of a detached card: %v, want rule %s", err, RuleUnknownSlot)
	}
}
