// Package ready waits until a running 'mynahil sim' has its cards in their
// readers: every inserted card connected to vpcd and, through pcscd, present
// in its reader with its ATR (docs/cli.md, "Waiting for the sim";
// docs/vpcd-pcscd.md).
package ready

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simd"
)

// Config says which sim to wait for and how.
type Config struct {
	// Control is the sim's control address (control.DefaultAddr(state)).
	Control string
	// SkipPCSC stops at "connected to vpcd" without asking pcscd, for a
	// sim whose vpcd is not behind this machine's pcscd.
	SkipPCSC bool
	// StateDir is the sim's state directory: on a TCP control address the
	// token in its control.token is read anew at each try, so a wait begun
	// before the sim wrote it (or while an old one lies there) still ends
	// when the sim is ready. "" takes $MYNAHIL_CONTROL_TOKEN only.
	StateDir string
	// Poll is the interval between looks (default 100 ms).
	Poll time.Duration
}

// ErrNotReady is returned, wrapped with what was still missing, when ctx
// ends before the sim is ready.
var ErrNotReady = errors.New("sim not ready")

// Wait returns the inserted cards once each is connected to vpcd and, unless
// SkipPCSC, present in its pcscd reader with its ATR. It keeps trying while
// the sim is not running yet, so a script may call it right after starting
// the sim. At least one card must be inserted.
func Wait(ctx context.Context, cfg Config) ([]simd.SlotInfo, error) {
	poll := cfg.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	var c *simapi.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	missing := "nothing checked yet"
	for {
		cards, why, err := look(ctx, cfg, &c)
		if err != nil {
			return nil, err
		}
		if why == "" {
			return cards, nil
		}
		missing = why
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s", ErrNotReady, missing)
		case <-time.After(poll):
		}
	}
}

// look checks once; why says what is missing ("" when ready). err is only
// for failures that waiting cannot mend.
func look(ctx context.Context, cfg Config, c **simapi.Client) (cards []simd.SlotInfo, why string, err error) {
	if *c == nil {
		cl, err := simapi.Dial(cfg.Control, control.WithStateToken(cfg.StateDir))
		if err != nil {
			return nil, fmt.Sprintf("no sim answers on %s", cfg.Control), nil
		}
		*c = cl
	}
	list, err := (*c).List(ctx)
	if err != nil {
		var re *simapi.RefusedError
		if errors.As(err, &re) && re.RuleName == control.RuleUnauthorized && cfg.StateDir != "" {
			(*c).Close()
			*c = nil // the sim has not written its new token yet: read it again
			return nil, fmt.Sprintf("the sim on %s refused the token in %s", cfg.Control, control.TokenFile(cfg.StateDir)), nil
		}
		if errors.As(err, &re) {
			return nil, "", fmt.Errorf("asking the sim for its cards: %w", err)
		}
		(*c).Close()
		*c = nil
		return nil, fmt.Sprintf("the sim on %s stopped answering: %v", cfg.Control, err), nil
	}
	for _, s := range list {
		if s.Inserted {
			cards = append(cards, s)
		}
	}
	if len(cards) == 0 {
		return nil, "the sim has no inserted card ('mynahil sim insert --all' puts them in)", nil
	}
	for _, s := range cards {
		if !s.Connected {
			return nil, fmt.Sprintf("card %s (slot %d) is not connected to vpcd at %s: is pcscd with vpcd running?", s.Card, s.Slot, s.VPCD), nil
		}
	}
	if cfg.SkipPCSC {
		return cards, "", nil
	}
	pc, err := pcsc.Establish()
	if err != nil {
		return nil, fmt.Sprintf("pcscd: %v", err), nil
	}
	defer pc.Close()
	readers, err := pc.Readers()
	if err != nil {
		return nil, fmt.Sprintf("pcscd: listing readers: %v", err), nil
	}
	for _, s := range cards {
		if !seen(readers, s) {
			return nil, fmt.Sprintf("pcscd does not show card %s in reader %q yet", s.Card, s.Reader), nil
		}
	}
	return cards, "", nil
}

// seen reports whether pcscd shows the slot's card: its reader present, with
// the card's ATR.
func seen(readers []pcsc.ReaderInfo, s simd.SlotInfo) bool {
	for _, r := range readers {
		if r.Name == s.Reader && r.Present() && r.ATRHex() == s.ATR {
			return true
		}
	}
	return false
}

// ErrNotSeen is returned, wrapped with the first card pcscd does not show
// as it should, when ctx ends before pcscd has seen a change.
var ErrNotSeen = errors.New("pcscd has not seen the change")

// WaitSeen returns once pcscd shows each of slots as the sim reports it:
// an inserted card present in its reader with its ATR, a removed one gone
// from it ('mynahil sim insert/remove'). A card out of every slot
// (Slot < 0) is not looked for. Poll is the interval between looks
// (default 100 ms).
func WaitSeen(ctx context.Context, slots []simd.SlotInfo, poll time.Duration) error {
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	missing := "nothing checked yet"
	for {
		why := lookSeen(slots)
		if why == "" {
			return nil
		}
		missing = why
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s", ErrNotSeen, missing)
		case <-time.After(poll):
		}
	}
}

// lookSeen checks once; it says what pcscd does not show yet ("" when it
// shows every change).
func lookSeen(slots []simd.SlotInfo) string {
	pc, err := pcsc.Establish()
	if err != nil {
		return fmt.Sprintf("pcscd: %v", err)
	}
	defer pc.Close()
	readers, err := pc.Readers()
	if err != nil {
		return fmt.Sprintf("pcscd: listing readers: %v", err)
	}
	for _, s := range slots {
		switch {
		case s.Slot < 0 || s.Reader == "":
		case s.Inserted && !seen(readers, s):
			return fmt.Sprintf("pcscd does not show card %s in reader %q yet", s.Card, s.Reader)
		case !s.Inserted && shows(readers, s.Reader):
			return fmt.Sprintf("pcscd still shows a card in reader %q", s.Reader)
		}
	}
	return ""
}

// shows reports whether pcscd shows a card in the named reader.
func shows(readers []pcsc.ReaderInfo, name string) bool {
	for _, r := range readers {
		if r.Name == name && r.Present() {
			return true
		}
	}
	return false
}
