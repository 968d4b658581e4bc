package card

import (
	"testing"
)

// FuzzLoad: a card state file, however damaged, is refused with an error
// or loads into a card that answers every command with a status word;
// nothing panics (State.Validate guards what the commands rely on).
func FuzzLoad(f *testing.F) {
	c := testCard(f, nil)
	good, err := c.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"atr":"O+AA/4ExkUUU","dfs":[{"name":"x","aid":"0w==","files":[{"id":24,"kind":3,"read":{},"pin":{"max":3,"left":15}}]}]}`))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{}`))
	commands := [][]byte{
		append([]byte{0x00, 0xA4, 0x04, 0x0C, byte(len(testAID))}, testAID...),
		{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18},
		{0x00, 0x20, 0x00, 0x80},
		{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'},
		{0x00, 0x24, 0x01, 0x80, 0x04, '4', '3', '2', '1'},
		{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17},
		{0x80, 0x2A, 0x00, 0x80, 0x01, 0x00, 0x00},
		{0x00, 0x88, 0x00, 0x80, 0x01, 0x00, 0x00},
		{0x00, 0xB0, 0x00, 0x00, 0x00},
		{0x00, 0xB2, 0x01, 0x04, 0x00},
		{0x00, 0xCA, 0x5F, 0x51, 0x00},
		{0x00, 0x84, 0x00, 0x00, 0x08},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Load(b)
		if err != nil {
			return
		}
		for _, cmd := range commands {
			if r := c.Transmit(cmd); len(r) < 2 {
				t.Fatalf("% X answered % X: no status word", cmd, r)
			}
		}
		if _, err := c.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}
