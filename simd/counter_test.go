package simd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/profile"
)

// TestOfficeTakesTheCardOut: an office change to an inserted card takes it
// out of its reader (the reader's session ends with a removal, never a
// changed answer), keeps it out for RemovalTime, and puts it back changed.
// A refusal before any change leaves the card in its reader.
func TestOfficeTakesTheCardOut(t *testing.T) {
	const removal = 300 * time.Millisecond
	r := newRig(t, shortTempDir(t), nil, Config{RemovalTime: removal})
	r.waitCard()
	c := clientOf(t, r)
	ctx := context.Background()
	pin := profile.Default().PINs.Auth

	// A session with the auth PIN verified.
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthPIN, 0x9000)
	r.expectSW(verify("0000"), 0x63C2)

	// A refused operation does not touch the card.
	if _, err := c.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Auth, PIN: "12"}); err == nil {
		t.Fatal("reset-pin with a 2-digit PIN succeeded")
	}
	r.expectSW([]byte{0x00, 0x20, 0x00, 0x80}, 0x63C2)

	start := time.Now()
	visit := make(chan error, 1)
	go func() {
		_, err := c.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Auth, PIN: "4321"})
		visit <- err
	}()
	// The old session is gone: the next exchange fails as a removal, and
	// the card that comes back starts afresh with the new PIN.
	r.waitGone()
	r.waitCard()
	// The office answers once the reader has powered the card up again.
	if err := <-visit; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < removal {
		t.Errorf("reset-pin returned after %v, before the card was back (removal time %v)", took, removal)
	}
	if !strings.Contains(r.logs.String(), "office takes the card out of its reader") {
		t.Error("no log line for taking the card out")
	}
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthPIN, 0x9000)
	r.expectSW([]byte{0x00, 0x20, 0x00, 0x80}, 0x63C3)
	r.expectSW(verify("4321"), 0x9000)
	r.expectSW(verify(pin), 0x63C2)
}
