package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/vpcd"
)

// A session talks to the reader under test or to none: pcsc.Context.Connect
// also picks a reader by a substring of its name, and a check must never
// judge another reader than the one named.
func TestSessionConnectsOnlyToTheNamedReader(t *testing.T) {
	pcscdenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := vpcdslot.Attach(ctx, vpcd.EchoCard{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Detach(ctx); err != nil {
			t.Error(err)
		}
	})
	for _, tc := range []struct {
		reader string
		err    error
	}{
		{pcscdenv.VPCDReader1, nil},
		{strings.TrimPrefix(pcscdenv.VPCDReader1, "Virtual "), pcsc.ErrReaderNotFound},
	} {
		s, err := openSession(tc.reader, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		err = s.connect(pcsc.Shared)
		if !errors.Is(err, tc.err) || (tc.err != nil) != (err != nil) {
			t.Errorf("connecting to %q: %v, want %v", tc.reader, err, tc.err)
		}
		if err := s.close(); err != nil {
			t.Error(err)
		}
	}
}
