package jpkiclient

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/apduclient"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func hexOf(b []byte) string { return fmt.Sprintf("% X", b) }

// step is one expected exchange of a script: the exact command, and either
// a fixed response or a function computing it from the command.
type step struct {
	cmd     string
	resp    string
	respond func(cmd []byte) []byte
}

// script is a Transport that expects exactly its steps, in order.
type script struct {
	t     *testing.T
	steps []step
	next  int
}

func newScript(t *testing.T, steps ...step) *script {
	s := &script{t: t, steps: steps}
	t.Cleanup(func() {
		if s.next != len(s.steps) {
			t.Errorf("script: %d of %d exchanges happened; next expected: %s", s.next, len(s.steps), s.steps[s.next].cmd)
		}
	})
	return s
}

func (s *script) Transmit(cmd []byte) ([]byte, error) {
	s.t.Helper()
	if s.next >= len(s.steps) {
		s.t.Errorf("script: unexpected extra command % X", cmd)
		return []byte{0x6F, 0x00}, nil
	}
	st := s.steps[s.next]
	s.next++
	if want := hexOf(unhex(s.t, st.cmd)); hexOf(cmd) != want {
		s.t.Errorf("script step %d: sent\n  % X\nwant\n  %s", s.next, cmd, want)
	}
	if st.respond != nil {
		return st.respond(cmd), nil
	}
	return unhex(s.t, st.resp), nil
}

func (s *script) ATR() ([]byte, error) {
	return []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}, nil
}

// fileCard is a Transport serving EFs the way docs/card.md §7 describes:
// SELECT EF by FID (6A82 if absent), READ BINARY returning min(Le, rest) with
// 9000, 6B00 at or after EOF, 6982 on protected files. It logs every command.
type fileCard struct {
	files     map[FileID][]byte
	protected map[FileID]bool
	selected  FileID
	log       []string
	// misbehaviour, for the client's defensive paths
	emptyAfter int // if > 0: after this many reads, answer 9000 with no data
	reads      int
	extraByte  bool // answer one byte more than Le
}

func (f *fileCard) Transmit(b []byte) ([]byte, error) {
	f.log = append(f.log, hexOf(b))
	c, err := apduclient.ParseCommand(b)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	switch {
	case c.INS == 0xA4 && c.P1 == 0x02 && c.P2 == 0x0C && len(c.Data) == 2:
		fid := FileID(c.Data[0])<<8 | FileID(c.Data[1])
		if _, ok := f.files[fid]; !ok {
			return []byte{0x6A, 0x82}, nil
		}
		f.selected = fid
		return []byte{0x90, 0x00}, nil
	case c.INS == 0xB0 && c.P1&0x80 == 0:
		if f.protected[f.selected] {
			return []byte{0x69, 0x82}, nil
		}
		data := f.files[f.selected]
		off := int(c.P1)<<8 | int(c.P2)
		if off >= len(data) {
			return []byte{0x6B, 0x00}, nil
		}
		if f.reads++; f.emptyAfter > 0 && f.reads > f.emptyAfter {
			return []byte{0x90, 0x00}, nil
		}
		end := min(off+c.Ne, len(data))
		if f.extraByte {
			end = min(end+1, len(data))
		}
		return append(append([]byte(nil), data[off:end]...), 0x90, 0x00), nil
	}
	return []byte{0x6D, 0x00}, nil
}
