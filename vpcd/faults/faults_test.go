package faults

import (
	"bytes"
	"testing"

	"github.com/mynahil/mynahil/vpcd"
)

// dataCard answers every APDU with n bytes 0..n-1 and 9000, and 6A82 to
// commands starting FF.
type dataCard struct {
	vpcd.EchoCard
	n int
}

func (c dataCard) Transmit(cmd []byte) []byte {
	if cmd[0] == 0xFF {
		return []byte{0x6A, 0x82}
	}
	out := make([]byte, c.n)
	for i := range out {
		out[i] = byte(i)
	}
	return append(out, 0x90, 0x00)
}

func profile(t *testing.T, name string) Profile {
	t.Helper()
	p, ok := ByName(name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return p
}

func TestCatalogue(t *testing.T) {
	if p, ok := ByName(""); !ok || p.Name != "healthy" {
		t.Errorf(`ByName("") = %v, %v`, p.Name, ok)
	}
	if _, ok := ByName("no-such-fault"); ok {
		t.Error("unknown profile found")
	}
	for _, n := range Names() {
		p := profile(t, n)
		if p.Name != n || p.Summary == "" {
			t.Errorf("profile %q: name %q, summary %q", n, p.Name, p.Summary)
		}
		if p.wrap == nil && p.reply == nil && p.Stack.IsZero() && p.InsertDelay == 0 && p.RemoveDelay == 0 && p.VanishPartial == 0 {
			t.Errorf("profile %q changes nothing", n)
		}
	}
	c := dataCard{n: 3}
	if Healthy.Card(c) != vpcd.Card(c) || Healthy.Reply() != nil {
		t.Error("Healthy changes the card")
	}
}

func TestChaining(t *testing.T) {
	for _, tc := range []struct {
		profile string
		n       int
		want    [][]byte // responses to the command, then to GET RESPONSE 00 and GET RESPONSE 00 again
	}{
		{"force-61xx", 10, [][]byte{{0x61, 0x0A}}},
		{"force-61xx", 300, [][]byte{{0x61, 0x00}}},
		{"broken-get-response", 256, [][]byte{{0x61, 0x00}}},
	} {
		c := profile(t, tc.profile).Card(dataCard{n: tc.n})
		if got := c.Transmit([]byte{0x00, 0xB0, 0, 0, 0}); !bytes.Equal(got, tc.want[0]) {
			t.Errorf("%s n=%d: first answer % X, want % X", tc.profile, tc.n, got, tc.want[0])
		}
		var data []byte
		for round := 0; round < 5; round++ {
			resp := c.Transmit([]byte{0x00, 0xC0, 0x00, 0x00, 0x00})
			data = append(data, resp[:len(resp)-2]...)
			if resp[len(resp)-2] != 0x61 {
				if resp[len(resp)-2] != 0x90 {
					t.Errorf("%s: GET RESPONSE ended with % X", tc.profile, resp[len(resp)-2:])
				}
				break
			}
		}
		want := tc.n
		if tc.profile == "broken-get-response" {
			want = tc.n - 1
		}
		if len(data) != want {
			t.Errorf("%s n=%d: GET RESPONSE delivered %d bytes, want %d", tc.profile, tc.n, len(data), want)
		}
	}
	c := profile(t, "force-61xx").Card(dataCard{n: 4})
	if got := c.Transmit([]byte{0x00, 0xC0, 0x00, 0x00, 0x04}); !bytes.Equal(got, []byte{0x69, 0x85}) {
		t.Errorf("GET RESPONSE with nothing pending: % X, want 6985", got)
	}
	if got := c.Transmit([]byte{0xFF, 0x00, 0x00, 0x00}); !bytes.Equal(got, []byte{0x6A, 0x82}) {
		t.Errorf("error passes through: % X", got)
	}
}

func TestTransmitFaults(t *testing.T) {
	ext := []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}
	if got := profile(t, "no-extended").Card(dataCard{n: 2}).Transmit(ext); !bytes.Equal(got, []byte{0x67, 0x00}) {
		t.Errorf("no-extended: % X, want 6700", got)
	}
	if got := profile(t, "no-extended").Card(dataCard{n: 2}).Transmit([]byte{0, 0xB0, 0, 0, 2}); len(got) != 4 {
		t.Errorf("no-extended passes short APDUs: % X", got)
	}
	if got := profile(t, "corrupt-sw").Card(dataCard{}).Transmit([]byte{0xFF, 0, 0, 0}); !bytes.Equal(got, []byte{0x6A, 0x83}) {
		t.Errorf("corrupt-sw: % X, want 6A83", got)
	}
	if got := profile(t, "corrupt-sw").Card(dataCard{n: 1}).Transmit([]byte{0, 0, 0, 0}); !bytes.Equal(got, []byte{0x00, 0x90, 0x00}) {
		t.Errorf("corrupt-sw leaves 9000: % X", got)
	}
	if got := profile(t, "stray-byte").Card(dataCard{n: 10}).Transmit([]byte{0, 0, 0, 0}); len(got) != 13 || got[12] != 0 {
		t.Errorf("stray-byte: % X", got)
	}
	if got := profile(t, "stray-byte").Card(dataCard{n: 16}).Transmit([]byte{0, 0, 0, 0}); len(got) != 18 {
		t.Errorf("stray-byte leaves long responses: %d bytes", len(got))
	}
	// drop-last-byte: only a 256-byte response loses its last data byte.
	if got := profile(t, "drop-last-byte").Card(dataCard{n: 256}).Transmit([]byte{0, 0xB0, 0, 0, 0}); len(got) != 257 || got[254] != 254 || !bytes.Equal(got[255:], []byte{0x90, 0x00}) {
		t.Errorf("drop-last-byte: %d bytes ending % X", len(got), got[len(got)-3:])
	}
	if got := profile(t, "drop-last-byte").Card(dataCard{n: 255}).Transmit([]byte{0, 0xB0, 0, 0, 0xFF}); len(got) != 257 {
		t.Errorf("drop-last-byte touches a 255-byte response: %d bytes", len(got))
	}
	// short-response: 1..16 data bytes lose the last one, 9000 kept.
	if got := profile(t, "short-response").Card(dataCard{n: 10}).Transmit([]byte{0, 0xB0, 0, 0, 10}); !bytes.Equal(got, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 0x90, 0x00}) {
		t.Errorf("short-response: % X", got)
	}
	if got := profile(t, "short-response").Card(dataCard{n: 17}).Transmit([]byte{0, 0xB0, 0, 0, 17}); len(got) != 19 {
		t.Errorf("short-response touches a 17-byte response: %d bytes", len(got))
	}
	// flip-long-command: the last data byte of a 200..257-byte command.
	rec := &recordCard{}
	cmd := append([]byte{0x80, 0x2A, 0x00, 0x80, 200}, make([]byte, 200)...)
	profile(t, "flip-long-command").Card(rec).Transmit(append(cmd, 0x00))
	if len(rec.last) != 206 || rec.last[204] != 0xFF || rec.last[203] != 0 || rec.last[205] != 0 {
		t.Errorf("flip-long-command: % X", rec.last[200:])
	}
	profile(t, "flip-long-command").Card(rec).Transmit(cmd[:100])
	if rec.last[99] != 0 {
		t.Errorf("flip-long-command touches a 100-byte command")
	}
	// refuse-long-command: 258 bytes or more never reach the card.
	rec.last = nil
	long := append([]byte{0x00, 0xA4, 0x04, 0x0C, 253}, make([]byte, 253)...)
	if got := profile(t, "refuse-long-command").Card(rec).Transmit(long); !bytes.Equal(got, []byte{0x6F, 0x00}) || rec.last != nil {
		t.Errorf("refuse-long-command: % X, card saw %d bytes", got, len(rec.last))
	}
	if atr := profile(t, "no-t1-atr").Card(dataCard{}).ATR(); !bytes.Equal(atr, []byte{0x3B, 0x02, 0x14, 0x50}) {
		t.Errorf("no-t1-atr: % X", atr)
	}
	if atr := profile(t, "mute-card").Card(dataCard{}).ATR(); len(atr) != 34 {
		t.Errorf("mute-card ATR of %d bytes", len(atr))
	}
}

func TestReplyFaults(t *testing.T) {
	resp := make([]byte, 258)
	r := profile(t, "cut-256").Reply()([]byte{0, 0xB0, 0, 0, 0}, resp)
	if r.Action != vpcd.Replace || len(r.Payload) != 256 {
		t.Errorf("cut-256: %v with %d bytes", r.Action, len(r.Payload))
	}
	if r := profile(t, "cut-256").Reply()([]byte{0, 0xB0, 0, 0, 0}, resp[:256]); r.Action != vpcd.Pass {
		t.Errorf("cut-256 touches a 256-byte response")
	}
	if r := profile(t, "stall").Reply()([]byte{0, 0x20, 0, 0x80}, []byte{0x63, 0xC3}); r.Delay != StallFor {
		t.Errorf("stall: delay %v", r.Delay)
	}
	if r := profile(t, "stall").Reply()([]byte{0, 0x20, 0, 0x80, 0}, []byte{0x63, 0xC3}); r.Delay != 0 {
		t.Errorf("stall delays a 5-byte APDU")
	}
	imp := profile(t, "impatient-reader").Reply()
	if r := imp([]byte{0, 0xB0, 0x01, 0x00, 0x00}, resp); r.Action != vpcd.Close || r.Delay != ReaderPatience {
		t.Errorf("impatient-reader on a second chunk: %+v", r)
	}
	if r := imp([]byte{0, 0xB0, 0x00, 0x00, 0x00}, resp); r.Action != vpcd.Pass {
		t.Errorf("impatient-reader on the first chunk: %+v", r)
	}
	if r := profile(t, "vanish-mid-apdu").Vanish([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x90, 0x00}); r.Action != vpcd.Close || !bytes.Equal(r.Payload, []byte{0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("vanish-mid-apdu: %+v", r)
	}
	sp := profile(t, "latency-spikes").Reply()
	slow := 0
	for i := 0; i < 80; i++ {
		if sp([]byte{0, 0xB0, 0, 0, 32}, resp).Delay == SpikeDelay {
			slow++
		}
	}
	if slow != 5 || sp([]byte{0, 0xB0, 0, 0, 16}, resp).Delay != 0 {
		t.Errorf("latency-spikes: %d of 80 soak reads delayed, want 5", slow)
	}
	sig := profile(t, "slow-signature").Reply()
	if r := sig([]byte{0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00}, resp); r.Delay != SlowSignature {
		t.Errorf("slow-signature on a signature: %+v", r)
	}
	if r := sig([]byte{0x00, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00}, resp); r.Delay != 0 {
		t.Errorf("slow-signature on another command: %+v", r)
	}
	if r := Healthy.Vanish([]byte{0x90, 0x00}); r.Action != vpcd.Close || len(r.Payload) != 0 {
		t.Errorf("healthy vanish: %+v", r)
	}
}

func TestStatusOnlyFaults(t *testing.T) {
	sw := func(s0, s1 byte) vpcd.Card { return swCard{s0: s0, s1: s1} }
	c1 := profile(t, "status-only-mishandled").Card(sw(0x63, 0xC3))
	if got := c1.Transmit([]byte{0, 0x20, 0, 0x80}); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Errorf("status-only-mishandled on case 1: % X", got)
	}
	if got := c1.Transmit([]byte{0, 0x20, 0, 0x80, 0}); !bytes.Equal(got, []byte{0x63, 0xC3}) {
		t.Errorf("status-only-mishandled on case 2: % X", got)
	}
	cut := profile(t, "status-only-mishandled").Reply()
	for _, tc := range []struct {
		resp []byte
		want vpcd.Reply
	}{
		{[]byte{0x6D, 0x00}, vpcd.Reply{Action: vpcd.Replace, Payload: []byte{0x6D}}},
		{[]byte{0x6E, 0x00}, vpcd.Reply{Action: vpcd.Replace, Payload: []byte{0x6E}}},
		{[]byte{0x6A, 0x82}, vpcd.Reply{}},
		{[]byte{0x6D, 0x00, 0x90, 0x00}, vpcd.Reply{}},
	} {
		if got := cut([]byte{0, 2, 0, 0, 0}, tc.resp); got.Action != tc.want.Action || !bytes.Equal(got.Payload, tc.want.Payload) {
			t.Errorf("status-only-mishandled on % X: %+v, want %+v", tc.resp, got, tc.want)
		}
	}
	g := profile(t, "garble-now-and-then").Card(dataCard{n: 32})
	garbled := 0
	for i := 0; i < 64; i++ {
		if got := g.Transmit([]byte{0, 0xB0, 0, 0, 32}); got[31] != 31 {
			garbled++
		}
	}
	if got := g.Transmit([]byte{0, 0xB0, 0, 0, 16}); garbled != 4 || got[31] != 31 {
		t.Errorf("garble-now-and-then: %d of 64 soak reads garbled, want 4", garbled)
	}
	if p := profile(t, "lying-pcsc-stack"); p.Stack.IsZero() || !(Stack{}).IsZero() {
		t.Errorf("lying-pcsc-stack tells no lie: %+v", p.Stack)
	}
}

// swCard answers every APDU with one status word.
type swCard struct {
	vpcd.EchoCard
	s0, s1 byte
}

func (c swCard) Transmit([]byte) []byte { return []byte{c.s0, c.s1} }

// recordCard keeps the last command it received.
type recordCard struct {
	vpcd.EchoCard
	last []byte
}

func (c *recordCard) Transmit(cmd []byte) []byte {
	c.last = append([]byte(nil), cmd...)
	return []byte{0x90, 0x00}
}
