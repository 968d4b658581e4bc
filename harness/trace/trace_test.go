package trace

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func h(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMaskDoesNotStorePIN(t *testing.T) {
	tests := []struct {
		name     string
		cmd      string
		secret   string // bytes that must not survive
		rendered string // expected command line prefix in the rendering
	}{
		{"VERIFY auth PIN", "00 20 00 80 04 31 32 33 34", "31 32 33 34", "00 20 00 80 04 ** ** ** **"},
		{"VERIFY with SFI in P2", "00 20 00 98 04 39 38 37 36", "39 38 37 36", "00 20 00 98 04 ** ** ** **"},
		{"VERIFY sign PIN", "00 20 00 80 06 41 42 43 31 32 33", "41 42 43 31 32 33", "00 20 00 80 06 ** ** ** ** ** **"},
		{"CHANGE REFERENCE DATA", "00 24 01 80 04 35 36 37 38", "35 36 37 38", "00 24 01 80 04 ** ** ** **"},
		{"CHANGE KEY 80 32", "80 32 00 80 04 35 36 37 38", "35 36 37 38", "80 32 00 80 04 ** ** ** **"},
		{"RESET RETRY COUNTER", "00 2C 00 80 08 31 31 31 31 32 32 32 32", "31 31 31 31", "00 2C 00 80 08 ** ** ** ** ** ** ** **"},
		{"extended VERIFY", "00 20 00 80 00 00 04 31 32 33 34", "31 32 33 34", "00 20 00 80 00 00 04 ** ** ** **"},
		{"malformed VERIFY (Lc too short)", "00 20 00 80 02 31 32 33 34", "31 32 33 34", "00 20 00 80 ** ** ** ** **"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Recorder
			cmd := h(t, tt.cmd)
			r.Record(time.Now(), time.Microsecond, cmd, h(t, "90 00"), nil)
			got := r.Exchanges()[0].Command
			if bytes.Contains(got, h(t, tt.secret)) {
				t.Errorf("recording % X contains the PIN % X", got, h(t, tt.secret))
			}
			if len(got) != len(cmd) {
				t.Errorf("recording has %d bytes, command %d", len(got), len(cmd))
			}
			if !bytes.Equal(cmd, h(t, tt.cmd)) {
				t.Errorf("Record modified the caller's buffer: % X", cmd)
			}
			if out := r.String(); !strings.Contains(out, tt.rendered) || strings.Contains(out, tt.secret) {
				t.Errorf("rendering %q: want %q and not %q", out, tt.rendered, tt.secret)
			}
		})
	}
}

func TestMaskLeavesOtherCommandsAlone(t *testing.T) {
	for _, s := range []string{
		"00 20 00 80",                // tries-left query: nothing to hide
		"00 20 00 80 00",             // the jpki-rs form of the query
		"00 A4 02 0C 02 00 18",       // SELECT of the PIN EF
		"80 2A 00 80 03 01 02 03 00", // signature input is not secret
		"00 32 00 00 01 55",          // inter-industry INS 32 is not CHANGE KEY
	} {
		t.Run(s, func(t *testing.T) {
			got, _, n := Mask(h(t, s))
			if n != 0 || !bytes.Equal(got, h(t, s)) {
				t.Errorf("Mask(%s) = % X, masked %d bytes", s, got, n)
			}
		})
	}
}

func TestRecordCopiesBuffers(t *testing.T) {
	var r Recorder
	cmd, resp := h(t, "00 B0 00 00 02"), h(t, "30 82 90 00")
	r.Record(time.Now(), 0, cmd, resp, nil)
	cmd[0], resp[0] = 0xFF, 0xFF
	e := r.Exchanges()[0]
	if e.Command[0] != 0x00 || e.Response[0] != 0x30 {
		t.Errorf("recording aliases caller buffers: % X / % X", e.Command, e.Response)
	}
}

func TestRendering(t *testing.T) {
	var r Recorder
	r.Record(time.Now(), 2*time.Millisecond, h(t, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"), h(t, "90 00"), nil)
	r.Record(time.Now(), time.Millisecond, h(t, "00 20 00 80"), h(t, "63 C2"), nil)
	r.Note("warm reset")
	r.Record(time.Now(), 0, h(t, "80 2A 00 80 01 AA 00"), nil, errors.New("card removed"))
	r.Record(time.Now(), 0, h(t, "00 B0 00 00 00"), h(t, "90"), nil)
	want := []string{
		"#1   > 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01  SELECT by DF name",
		"     < 90 00  success  (2ms)",
		"#2   > 00 20 00 80  VERIFY (tries-left query)",
		"     < 63 C2  verification failed, 2 tries left  (1ms)",
		"#3   -- warm reset",
		"#4   > 80 2A 00 80 01 AA 00  COMPUTE DIGITAL SIGNATURE (JPKI 80 2A)",
		"     ! card removed  (0s)",
		"#5   > 00 B0 00 00 00  READ BINARY",
		"     < 90  malformed response  (0s)",
	}
	got := strings.Split(strings.TrimSuffix(r.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rendering:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Len() != 5 {
		t.Errorf("Len() = %d", r.Len())
	}
	r.Clear()
	if r.Len() != 0 || r.String() != "" {
		t.Errorf("after Clear: %d entries, %q", r.Len(), r.String())
	}
}

// FuzzMask checks that masking never panics, keeps the length, and that
// whenever it masks it covers every byte after the Lc field.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"0020008004 31323334", "0024018004 35363738", "8032008002 3132", "00200080", "0020008000000431323334", "002000800231323334"} {
		f.Add(h(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, off, n := Mask(b)
		if len(got) != len(b) {
			t.Fatalf("length %d -> %d", len(b), len(got))
		}
		if n == 0 {
			if !bytes.Equal(got, b) {
				t.Fatalf("unmasked result differs: % X -> % X", b, got)
			}
			return
		}
		if !carriesPIN(b[0], b[1]) || off < 4 || off+n > len(b) {
			t.Fatalf("masked [%d:%d] of % X", off, off+n, b)
		}
		for i := off; i < off+n; i++ {
			if got[i] != MaskByte {
				t.Fatalf("byte %d not masked: % X", i, got)
			}
		}
	})
}

func TestMyNumberResponseIsMasked(t *testing.T) {
	rec := New()
	now := time.Now()
	myNumber := []byte{0xFF, 0x10, 0x0C, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '8', 0xFF, 0xFF, 0x90, 0x00}
	rec.Record(now, 0, []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}, []byte{0x90, 0x00}, nil)
	rec.Record(now, 0, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, []byte{0x90, 0x00}, nil)
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x11}, myNumber, nil)
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, myNumber, nil) // by short EF identifier
	// The JPKI applet's EF 0001 (the signing certificate) is not masked
	// on a simulated card (New); see personal_test.go for physical cards.
	rec.Record(now, 0, []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}, []byte{0x90, 0x00}, nil)
	rec.Record(now, 0, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, []byte{0x90, 0x00}, nil)
	rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x04}, []byte{0x30, 0x82, 0x06, 0xCA, 0x90, 0x00}, nil)
	ex := rec.Exchanges()
	for _, i := range []int{2, 3} {
		if !ex[i].ResponseMasked || strings.Contains(string(ex[i].Response), "123456789018") {
			t.Errorf("exchange %d: My Number recorded: % X", i, ex[i].Response)
		}
		if r := ex[i].Response; r[len(r)-2] != 0x90 || r[len(r)-1] != 0x00 {
			t.Errorf("exchange %d: status word lost", i)
		}
	}
	if ex[6].ResponseMasked || ex[6].Response[0] != 0x30 {
		t.Errorf("certificate header masked: %+v", ex[6])
	}
	if s := rec.String(); strings.Contains(s, "31 32 33 34") || !strings.Contains(s, "My Number masked") {
		t.Errorf("rendering:\n%s", s)
	}
}
