package harness

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/trace"
)

// echoCard answers every command with the command itself + 9000, from one
// reused buffer, and scribbles over the command it was given: exactly what a
// careless card could do to a caller that shared memory with it.
type echoCard struct {
	buf                  []byte
	powerOn, powerOff    int
	resets               int
	atr                  []byte
	short                bool
	lastCmdLen, transmit int
}

func (c *echoCard) ATR() []byte { return c.atr }
func (c *echoCard) Transmit(cmd []byte) []byte {
	c.transmit++
	c.lastCmdLen = len(cmd)
	if c.short {
		return []byte{0x90}
	}
	c.buf = append(append(c.buf[:0], cmd...), 0x90, 0x00)
	for i := range cmd {
		cmd[i] = 0xEE
	}
	return c.buf
}
func (c *echoCard) Reset()    { c.resets++ }
func (c *echoCard) PowerOn()  { c.powerOn++ }
func (c *echoCard) PowerOff() { c.powerOff++ }

func TestInProcessCopiesBuffers(t *testing.T) {
	card := &echoCard{atr: []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}}
	tr := NewInProcess(card)
	if card.powerOn != 1 {
		t.Errorf("PowerOn called %d times", card.powerOn)
	}

	cmd := []byte{0x00, 0xB0, 0x00, 0x00, 0x04}
	resp, err := tr.Transmit(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cmd, []byte{0x00, 0xB0, 0x00, 0x00, 0x04}) {
		t.Errorf("card wrote into the caller's command buffer: % X", cmd)
	}
	first := append([]byte(nil), resp...)
	if _, err := tr.Transmit([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp, first) {
		t.Errorf("first response changed after the next Transmit: % X, was % X", resp, first)
	}

	atr, _ := tr.ATR()
	atr[0] = 0
	if again, _ := tr.ATR(); again[0] != 0x3B {
		t.Errorf("ATR aliases card memory: % X", again)
	}
}

func TestInProcessLifecycle(t *testing.T) {
	card := &echoCard{}
	tr := NewInProcess(card)
	if err := tr.Reset(); err != nil || card.resets != 1 {
		t.Errorf("Reset: %v, card saw %d resets", err, card.resets)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if card.powerOff != 1 {
		t.Errorf("PowerOff called %d times", card.powerOff)
	}
	if _, err := tr.Transmit([]byte{0, 0xA4, 0, 0}); !errors.Is(err, ErrClosed) {
		t.Errorf("Transmit after Close: %v", err)
	}
	if _, err := tr.ATR(); !errors.Is(err, ErrClosed) {
		t.Errorf("ATR after Close: %v", err)
	}
	if err := tr.Reset(); !errors.Is(err, ErrClosed) {
		t.Errorf("Reset after Close: %v", err)
	}
	if card.transmit != 0 || card.resets != 1 {
		t.Errorf("card used after Close: %d transmits, %d resets", card.transmit, card.resets)
	}
}

func TestInProcessRejectsResponseWithoutSW(t *testing.T) {
	tr := NewInProcess(&echoCard{short: true})
	if resp, err := tr.Transmit([]byte{0, 0xB0, 0, 0, 0}); err == nil {
		t.Errorf("Transmit = % X, want an error for a 1-byte response", resp)
	}
}

func TestInProcessAllocatesOnlyTheResponse(t *testing.T) {
	tr := NewInProcess(&echoCard{})
	cmd := []byte{0x00, 0xB0, 0x00, 0x00, 0x00}
	_, _ = tr.Transmit(cmd) // let the card grow its buffer
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := tr.Transmit(cmd); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Transmit allocated %v times, want 1 (the response)", allocs)
	}
}

func BenchmarkInProcessTransmit(b *testing.B) {
	tr := NewInProcess(&echoCard{})
	cmd := []byte{0x00, 0xB0, 0x00, 0x00, 0x00}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Transmit(cmd); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTraced(t *testing.T) {
	rec := trace.New()
	tr := Traced(NewInProcess(&echoCard{}), rec)
	if _, err := tr.Transmit([]byte{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'}); err != nil {
		t.Fatal(err)
	}
	if err := Reset(tr); err != nil {
		t.Fatal(err)
	}
	_ = Close(tr)
	_, err := tr.Transmit([]byte{0x00, 0xB0, 0x00, 0x00, 0x01})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Transmit after Close: %v", err)
	}

	ex := rec.Exchanges()
	if len(ex) != 4 {
		t.Fatalf("recorded %d entries, want 4:\n%s", len(ex), rec)
	}
	if bytes.Contains(ex[0].Command, []byte("1234")) {
		t.Errorf("trace stored the PIN: % X", ex[0].Command)
	}
	// The echo card answers with the command it received: masking must
	// happen in the recording only, never on the way to the card.
	if !bytes.Contains(ex[0].Response, []byte("1234")) {
		t.Errorf("Traced did not pass the real command on: response % X", ex[0].Response)
	}
	if ex[1].Note != "warm reset" || ex[2].Note != "close" || !errors.Is(ex[3].Err, ErrClosed) {
		t.Errorf("unexpected entries:\n%s", rec)
	}
	if !strings.Contains(rec.String(), "VERIFY") {
		t.Errorf("rendering lacks the INS name:\n%s", rec)
	}
}

// transmitOnly is a Transport with nothing but Transmit.
type transmitOnly struct{}

func (transmitOnly) Transmit([]byte) ([]byte, error) { return []byte{0x90, 0x00}, nil }

// TestOptionalInterfaces: Reset and ATR say ErrNotSupported for a Transport
// that cannot, Close has nothing to release, and Traced offers exactly what
// the Transport it wraps offers.
func TestOptionalInterfaces(t *testing.T) {
	for name, tr := range map[string]Transport{
		"bare":   transmitOnly{},
		"traced": Traced(transmitOnly{}, trace.New()),
	} {
		t.Run(name, func(t *testing.T) {
			if err := Reset(tr); !errors.Is(err, ErrNotSupported) {
				t.Errorf("Reset = %v, want ErrNotSupported", err)
			}
			if _, err := ATR(tr); !errors.Is(err, ErrNotSupported) {
				t.Errorf("ATR = %v, want ErrNotSupported", err)
			}
			if err := Close(tr); err != nil {
				t.Errorf("Close = %v, want nil", err)
			}
		})
	}
	atr := []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}
	card := &echoCard{atr: atr}
	tr := Traced(NewInProcess(card), trace.New())
	if got, err := ATR(tr); err != nil || !bytes.Equal(got, atr) {
		t.Errorf("ATR through Traced = % X, %v; want % X", got, err, atr)
	}
	if err := Reset(tr); err != nil || card.resets != 1 {
		t.Errorf("Reset through Traced = %v with %d resets; want nil and 1", err, card.resets)
	}
	if err := Close(tr); err != nil || card.powerOff != 1 {
		t.Errorf("Close through Traced = %v with %d power-offs; want nil and 1", err, card.powerOff)
	}
}
