package pinbudget

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// Given is a PIN the run was given for a key.
type Given struct {
	Key Key
	PIN jpkiclient.PIN // "" when not given
}

// Preflight runs before any spec sends a PIN: for each PIN given, it
// selects the PIN's applet and EF and sends one VERIFY under the rule
// (Verify: only with every try left). It then warm-resets the card so no
// PIN stays verified. Problems lists what it found against the run.
func Preflight(t harness.Transport, given ...Given) *Budget {
	b := New()
	for _, g := range given {
		if g.PIN == "" {
			continue
		}
		b.mu.Lock()
		b.given[g.Key.Name] = true
		b.mu.Unlock()
		if err := selectPIN(t, g.Key); err != nil {
			b.set(Result{Key: g.Key, State: Unknown, Err: err})
			continue
		}
		_ = b.Verify(t, g.Key, g.PIN)
	}
	_ = harness.Reset(t)
	return b
}

// selectPIN selects k's applet and its PIN EF.
func selectPIN(t harness.Transport, k Key) error {
	for _, cmd := range [][]byte{
		append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(k.AID))}, k.AID...),
		{0x00, 0xA4, 0x02, 0x0C, 0x02, byte(k.EF >> 8), byte(k.EF)},
	} {
		resp, err := t.Transmit(cmd)
		if err != nil {
			return fmt.Errorf("selecting the %s: %w", k, err)
		}
		if sw, ok := statusWord(resp); !ok || sw != 0x9000 {
			return fmt.Errorf("selecting the %s: the card answered % X", k, resp)
		}
	}
	return nil
}

// Select selects k's applet and its PIN EF, for Ready and Verify.
func Select(t harness.Transport, k Key) error { return selectPIN(t, k) }

// Gate wraps t so that the budget holds whoever sends the PIN: a VERIFY
// with data to a PIN the budget does not let through (refused in this
// run, or found short of tries) never reaches the card. (Answers are not
// judged here: a destructive spec sends wrong values, and the old PIN
// after a change, on purpose; before each spec the guard asks the card
// for every try left instead.) It follows SELECT by DF name and by EF
// to know which PIN a VERIFY is for (P2 80: the current EF; 80|SFI: that
// EF); a VERIFY after a SELECT it cannot follow (by a partial DF name, by
// path) passes. Reset, ATR and Close pass through.
func (b *Budget) Gate(t harness.Transport) harness.Transport { return &gate{b: b, t: t} }

type gate struct {
	b      *Budget
	t      harness.Transport
	mu     sync.Mutex
	aid    []byte
	ef     uint16
	haveEF bool
}

func (g *gate) Transmit(cmd []byte) ([]byte, error) {
	k, isVerify := g.verifyOf(cmd)
	if isVerify {
		if r := g.b.Result(k); !r.Usable() {
			return nil, fmt.Errorf("not sent to the card: %w", r.Error())
		}
	}
	resp, err := g.t.Transmit(cmd)
	if err != nil {
		return resp, err
	}
	sw, ok := statusWord(resp)
	if !ok {
		return resp, nil
	}
	g.follow(cmd, sw)
	return resp, nil
}

// follow tracks the selected applet and EF from a command and its answer.
func (g *gate) follow(cmd []byte, sw uint16) {
	if len(cmd) < 4 || cmd[1] != 0xA4 || sw != 0x9000 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	data := commandData(cmd)
	switch {
	case cmd[2] == 0x04:
		g.aid, g.haveEF = bytes.Clone(data), false
	case cmd[2] == 0x02 && len(data) == 2:
		g.ef, g.haveEF = uint16(data[0])<<8|uint16(data[1]), true
	default:
		g.aid, g.haveEF = nil, false
	}
}

// verifyOf reports whether cmd is a VERIFY with data to one of the
// budget's keys, and which.
func (g *gate) verifyOf(cmd []byte) (Key, bool) {
	if len(cmd) < 6 || cmd[0]&0xF0 != 0x00 || cmd[1] != 0x20 || cmd[2] != 0x00 || cmd[3]&0x80 == 0 {
		return Key{}, false
	}
	data := commandData(cmd)
	if len(data) == 0 {
		return Key{}, false
	}
	g.mu.Lock()
	aid, ef, have := g.aid, g.ef, g.haveEF
	g.mu.Unlock()
	if sfi := cmd[3] & 0x1F; sfi != 0 {
		ef, have = uint16(sfi), true
	}
	if !have {
		return Key{}, false
	}
	for _, k := range Keys() {
		if k.EF == ef && bytes.Equal(k.AID, aid) {
			return k, true
		}
	}
	return Key{}, false
}

// commandData is the data field of a short or extended case 3/4 APDU.
func commandData(cmd []byte) []byte {
	switch {
	case len(cmd) <= 5:
		return nil
	case cmd[4] != 0:
		n := int(cmd[4])
		if len(cmd) < 5+n {
			return nil
		}
		return cmd[5 : 5+n]
	case len(cmd) >= 7:
		n := int(cmd[5])<<8 | int(cmd[6])
		if len(cmd) < 7+n {
			return nil
		}
		return cmd[7 : 7+n]
	}
	return nil
}

func (g *gate) Reset() error {
	g.mu.Lock()
	g.aid, g.haveEF = nil, false
	g.mu.Unlock()
	return harness.Reset(g.t)
}
func (g *gate) ATR() ([]byte, error) { return harness.ATR(g.t) }
func (g *gate) Close() error         { return harness.Close(g.t) }
