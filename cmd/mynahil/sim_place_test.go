package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/vpcd"
)

// TestSimInsertCardIntoSlot: 'mynahil sim insert --card ID --slot N' puts
// the card into slot N and takes out the card that was there.
func TestSimInsertCardIntoSlot(t *testing.T) {
	reader, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reader.Close() })
	d := runDaemon(t, simd.Config{VPCD: reader.Addr(), RemovalTime: 20 * time.Millisecond, Backoff: 10 * time.Millisecond})
	state := d.Status().StateDir
	ctx := context.Background()
	c, err := simapi.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	issued, err := c.IssueCard(ctx, simapi.IssueParams{})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "sim", "insert", "--state", state, "--card", issued.ID, "--slot", "0", "--json", "--no-wait") // a stand-in vpcd, no pcscd
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got []simd.SlotInfo
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	if len(got) != 2 || got[0].Card != issued.ID || got[0].Slot != 0 || !got[0].Inserted || got[1].Slot != -1 || got[1].Inserted {
		t.Fatalf("sim insert --card %s --slot 0 = %+v, want it in slot 0 and the old card in slot -1", issued.ID, got)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	// The reader first sees the old card's connection end, then the new card.
	for {
		err := reader.WaitCard(wctx)
		if err == nil {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("the placed card never reached the reader: %v", err)
		}
	}
}
