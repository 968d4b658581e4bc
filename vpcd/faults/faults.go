// Package faults defines broken-reader profiles for the simulator's reader
// path: each one wraps the card served through the vpcd card side (package
// vpcd) and/or installs a vpcd fault hook, so that pcscd and every PC/SC
// application see a reader with one specific defect. The reader conformance
// suite (package conformance) runs against each profile to prove that the
// check aimed at the defect fails and the unrelated checks still pass
// (docs/conformance-checklist.md lists the branch each profile proves).
//
// The defects are the ones the public reader-test suites look for:
// extended-APDU support (R09), 258/259-byte packets (R10), 61xx chaining
// (R07/R08), a card that never answers (R12), removal mid-exchange (R04),
// malformed status words (R13), slow insertion (R02), the ATR's protocols
// (R05), resets that do nothing (R15/R16), a reader that gives up on a slow
// card (R11), buffer-length errors (R14) and a mute card (R01). How vpcd
// passes each of them to pcscd is in docs/vpcd-pcscd.md §3–§5 and §9.
package faults

import (
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mynahil/mynahil/vpcd"
)

// Profile is one broken reader. The zero Profile (Healthy) changes nothing.
type Profile struct {
	// Name is the profile's identifier, e.g. "no-extended".
	Name string
	// Summary says in one line what the reader gets wrong.
	Summary string
	// InsertDelay delays every connection of the card to vpcd: the reader
	// notices insertions late (docs/vpcd-pcscd.md §3.4).
	InsertDelay time.Duration
	// VanishPartial is how many bytes of its response the card side still
	// sends when a test makes the card vanish mid-APDU (see Vanish): 0 means
	// the card is gone before it answers, which Debian's vpcd reports as a
	// 0-byte "success"; more means a cut frame, which vpcd passes up as a
	// short but well-formed-looking response (§5.2, §5.3).
	VanishPartial int
	// RemoveDelay delays every removal of the card: the reader notices a
	// card taken away late.
	RemoveDelay time.Duration

	// Stack, when not zero, is a fault of the PC/SC stack above the reader
	// (pcscd, the IFD handler's reporting) rather than of the reader path
	// behind vpcd: pcscd itself implements what it breaks, so the suite
	// applies it between itself and pcscd (package conformance). It proves
	// the checks of what pcscd reports.
	Stack Stack

	wrap  func(vpcd.Card) vpcd.Card
	reply vpcd.FaultFunc
}

// Stack lists the lies of a broken PC/SC stack; the zero Stack tells none.
type Stack struct {
	// StatusLies: SCardStatus names another reader, reports the card
	// unpowered, and on every other call another ATR than the card's.
	StatusLies bool
	// StaleHandle: transmits on a handle whose card left answer 9000.
	StaleHandle bool
	// NoSharing: exclusive connects are made shared, SCardBeginTransaction
	// never waits for another context's transaction, and
	// SCardEndTransaction without a transaction succeeds.
	NoSharing bool
	// ResetOnLeave: SCardDisconnect with SCARD_LEAVE_CARD resets the card.
	ResetOnLeave bool
}

// IsZero reports whether s tells no lie.
func (s Stack) IsZero() bool { return s == Stack{} }

// Card returns c as the faulty reader presents it.
func (p Profile) Card(c vpcd.Card) vpcd.Card {
	if p.wrap == nil {
		return c
	}
	return p.wrap(c)
}

// Reply returns the profile's vpcd fault hook, nil if it has none.
func (p Profile) Reply() vpcd.FaultFunc { return p.reply }

// Vanish returns the reply that makes the card vanish instead of answering
// resp: the connection closes after VanishPartial bytes of resp's frame.
func (p Profile) Vanish(resp []byte) vpcd.Reply {
	if p.VanishPartial <= 0 || len(resp) == 0 {
		return vpcd.Reply{Action: vpcd.Close}
	}
	raw := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
	return vpcd.Reply{Action: vpcd.Close, Payload: append(raw, resp[:min(p.VanishPartial, len(resp))]...)}
}

// Healthy is the reader without faults.
var Healthy = Profile{Name: "healthy", Summary: "no fault: the virtual reader as shipped"}

// Timing used by the profiles; the suite's timeouts are set against them.
const (
	// StallFor is how long a stalling reader withholds an answer: longer
	// than the suite's APDU timeout in the fault matrix (2 s).
	StallFor = 3500 * time.Millisecond
	// SlowInsertion is the insertion delay of "slow-insertion", above the
	// suite's 1.5 s detection budget.
	SlowInsertion = 3 * time.Second
	// SlowRemoval is the removal delay of "slow-removal", above the suite's
	// 1.5 s detection budget.
	SlowRemoval = 3 * time.Second
	// ReaderPatience is how long "impatient-reader" waits for a slow card
	// before it gives up and drops it.
	ReaderPatience = time.Second
	// SlowSignature is how late "slow-signature" delivers a signature:
	// above the 1 s slow-operation budget the fault matrix sets, below its
	// 2 s APDU timeout.
	SlowSignature = 1400 * time.Millisecond
)

// profiles is the catalogue, by name.
var profiles = map[string]Profile{
	"no-extended": {
		Summary: "extended-length APDUs are refused with 6700 instead of being carried to the card",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			if isExtended(cmd) {
				return []byte{0x67, 0x00}
			}
			return c.Transmit(cmd)
		}),
	},
	"cut-256": {
		Summary: "responses longer than 256 bytes are cut to their first 256 bytes (the status word is lost)",
		reply: func(cmd, resp []byte) vpcd.Reply {
			if len(cmd) < 2 || len(resp) <= 256 {
				return vpcd.Reply{}
			}
			return vpcd.Reply{Action: vpcd.Replace, Payload: append([]byte(nil), resp[:256]...)}
		},
	},
	"force-61xx": {
		Summary: "every response with data is announced as 61xx and must be fetched with GET RESPONSE (T=0 style chaining on a T=1 card)",
		wrap:    func(c vpcd.Card) vpcd.Card { return &chainer{Card: c} },
	},
	"broken-get-response": {
		Summary: "61xx chaining is forced and GET RESPONSE after 61 00 delivers 255 bytes instead of 256",
		wrap:    func(c vpcd.Card) vpcd.Card { return &chainer{Card: c, short256: true} },
	},
	"stall": {
		Summary: "case-1 APDUs (4 bytes) are answered only after 3.5 s, longer than the host's timeout",
		reply: func(cmd, _ []byte) vpcd.Reply {
			if len(cmd) != 4 {
				return vpcd.Reply{}
			}
			return vpcd.Reply{Delay: StallFor}
		},
	},
	"vanish-mid-apdu": {
		Summary:       "a card that vanishes mid-response is reported with the cut-off response bytes as if the exchange had succeeded",
		VanishPartial: 9,
	},
	"corrupt-sw": {
		Summary: "error and warning status words are garbled (SW2 bit 0 flipped); 9000 and 61xx pass",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			resp := c.Transmit(cmd)
			if n := len(resp); n >= 2 && resp[n-2] != 0x90 && resp[n-2] != 0x61 {
				resp = append([]byte(nil), resp...)
				resp[n-1] ^= 0x01
			}
			return resp
		}),
	},
	"slow-insertion": {
		Summary:     "the reader notices an inserted card only after 3 s",
		InsertDelay: SlowInsertion,
	},
	"no-t1-atr": {
		Summary: "the reader presents an ATR that offers T=0 only (3B 02 14 50), so the T=1 card is driven as T=0",
		wrap:    func(c vpcd.Card) vpcd.Card { return atrCard{Card: c, atr: []byte{0x3B, 0x02, 0x14, 0x50}} },
	},
	"ignore-reset": {
		Summary: "warm and cold resets never reach the card: its selected file survives them",
		wrap:    func(c vpcd.Card) vpcd.Card { return noReset{Card: c} },
	},
	"impatient-reader": {
		Summary: "a full 256-byte READ BINARY chunk beyond the first is slow (as on real cards) and the reader gives up on it after 1 s, dropping the card",
		reply: func(cmd, _ []byte) vpcd.Reply {
			if len(cmd) != 5 || cmd[1] != 0xB0 || cmd[4] != 0x00 || cmd[2]&0x80 != 0 || int(cmd[2])<<8|int(cmd[3]) < 0x100 {
				return vpcd.Reply{}
			}
			return vpcd.Reply{Action: vpcd.Close, Delay: ReaderPatience}
		},
	},
	"stray-byte": {
		Summary: "short responses with data (3 to 17 bytes) arrive with a stray trailing 00 byte",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			resp := c.Transmit(cmd)
			if len(resp) >= 3 && len(resp) <= 17 {
				resp = append(append([]byte(nil), resp...), 0x00)
			}
			return resp
		}),
	},
	"slow-removal": {
		Summary:     "the reader notices that the card was taken away only after 3 s",
		RemoveDelay: SlowRemoval,
	},
	"drop-last-byte": {
		Summary: "a response of 256 data bytes (Le=00) arrives without its last data byte but with 9000",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			resp := c.Transmit(cmd)
			if len(resp) == 258 {
				resp = append(append([]byte(nil), resp[:255]...), resp[256:]...)
			}
			return resp
		}),
	},
	"short-response": {
		Summary: "responses of 1 to 16 data bytes arrive without their last data byte (9000 kept), so they fit a receive buffer one byte too small",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			resp := c.Transmit(cmd)
			if n := len(resp); n >= 3 && n <= 18 {
				resp = append(append([]byte(nil), resp[:n-3]...), resp[n-2:]...)
			}
			return resp
		}),
	},
	"flip-long-command": {
		Summary: "commands of 200 to 257 bytes reach the card with their last data byte flipped",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			if n := len(cmd); n >= 200 && n < 258 && !isExtended(cmd) {
				cmd = append([]byte(nil), cmd...)
				last := 4 + int(cmd[4]) // the last data byte (ISO/IEC 7816-4 clause 5.1)
				if last < n {
					cmd[last] ^= 0xFF
				}
			}
			return c.Transmit(cmd)
		}),
	},
	"refuse-long-command": {
		Summary: "short commands of 258 bytes or more never reach the card: the reader answers 6F 00 itself",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			if len(cmd) >= 258 && !isExtended(cmd) {
				return []byte{0x6F, 0x00}
			}
			return c.Transmit(cmd)
		}),
	},
	"latency-spikes": {
		Summary: "every 16th 32-byte READ BINARY is answered only after 1.5 s (a reader that stalls now and then)",
		reply:   spikes(),
	},
	"garble-now-and-then": {
		Summary: "every 16th 32-byte READ BINARY arrives with its last data byte flipped (9000 kept): a reader that corrupts data now and then",
		wrap:    garble(),
	},
	"status-only-mishandled": {
		Summary: "status-only exchanges are mishandled: case 1 commands (4 bytes: no data, no Le) never reach the card, the reader answers 90 00 itself; the card's \"instruction or class not supported\" answers (6D xx, 6E xx) arrive cut to their first byte",
		wrap: wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
			if len(cmd) == 4 {
				return []byte{0x90, 0x00}
			}
			return c.Transmit(cmd)
		}),
		// The card side never sends a 1-byte answer of its own: the
		// reader cuts it on the way.
		reply: func(_, resp []byte) vpcd.Reply {
			if len(resp) == 2 && (resp[0] == 0x6D || resp[0] == 0x6E) {
				return vpcd.Reply{Action: vpcd.Replace, Payload: resp[:1]}
			}
			return vpcd.Reply{}
		},
	},
	"slow-signature": {
		Summary: "COMPUTE DIGITAL SIGNATURE (80 2A) is delivered 1.4 s late: a reader that honours a slow operation but adds to it",
		reply: func(cmd, _ []byte) vpcd.Reply {
			if len(cmd) < 4 || cmd[0] != 0x80 || cmd[1] != 0x2A {
				return vpcd.Reply{}
			}
			return vpcd.Reply{Delay: SlowSignature}
		},
	},
	"lying-pcsc-stack": {
		Summary: "not the reader: the PC/SC stack above it lies (SCardStatus names another reader, an unpowered card and now and then another ATR; a handle whose card left still transmits; exclusive access, transactions and SCardEndTransaction are not enforced; SCARD_LEAVE_CARD resets the card)",
		Stack:   Stack{StatusLies: true, StaleHandle: true, NoSharing: true, ResetOnLeave: true},
	},
	"mute-card": {
		Summary: "the reader reports a 34-byte ATR, one more than PC/SC allows: the card is present but cannot be powered",
		wrap: func(c vpcd.Card) vpcd.Card {
			atr := append([]byte{0x3B, 0x8F, 0x80, 0x01}, make([]byte, 30)...)
			return atrCard{Card: c, atr: atr}
		},
	},
}

// Names returns the names of all fault profiles, sorted.
func Names() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ByName returns the named profile; "healthy" or "" is Healthy.
func ByName(name string) (Profile, bool) {
	if name == "" || name == Healthy.Name {
		return Healthy, true
	}
	p, ok := profiles[name]
	p.Name = name
	return p, ok
}

// SpikeDelay is how late "latency-spikes" answers: above R16's 1 s limit
// on the slowest soak APDU, below the fault matrix's 2 s APDU timeout.
const SpikeDelay = 1500 * time.Millisecond

// spikes delays every 16th READ BINARY with Le 32 (the soak's reads) by
// SpikeDelay: 3 of the fault matrix's 100-APDU soak, enough to lift its p99.
func spikes() vpcd.FaultFunc {
	var n atomic.Int64
	return func(cmd, _ []byte) vpcd.Reply {
		if !soakRead(cmd) || n.Add(1)%16 != 0 {
			return vpcd.Reply{}
		}
		return vpcd.Reply{Delay: SpikeDelay}
	}
}

// soakRead reports whether cmd is READ BINARY with Le 32 (R16's soak reads).
func soakRead(cmd []byte) bool { return len(cmd) == 5 && cmd[1] == 0xB0 && cmd[4] == 32 }

// garble flips the last data byte of every 16th successful soak read.
func garble() func(vpcd.Card) vpcd.Card {
	var n atomic.Int64
	return wrapTransmit(func(c vpcd.Card, cmd []byte) []byte {
		resp := c.Transmit(cmd)
		if !soakRead(cmd) || len(resp) < 3 || n.Add(1)%16 != 0 {
			return resp
		}
		resp = append([]byte(nil), resp...)
		resp[len(resp)-3] ^= 0xFF
		return resp
	})
}

// isExtended reports whether cmd uses extended length fields (ISO/IEC
// 7816-4 clause 5.1: a body of 3 or more bytes starting with 00).
func isExtended(cmd []byte) bool { return len(cmd) >= 7 && cmd[4] == 0x00 }

type transmitCard struct {
	vpcd.Card
	fn func(vpcd.Card, []byte) []byte
}

func (t transmitCard) Transmit(cmd []byte) []byte { return t.fn(t.Card, cmd) }

func wrapTransmit(fn func(vpcd.Card, []byte) []byte) func(vpcd.Card) vpcd.Card {
	return func(c vpcd.Card) vpcd.Card { return transmitCard{Card: c, fn: fn} }
}

type atrCard struct {
	vpcd.Card
	atr []byte
}

func (a atrCard) ATR() []byte { return append([]byte(nil), a.atr...) }

type noReset struct{ vpcd.Card }

func (noReset) Reset()    {}
func (noReset) PowerOn()  {}
func (noReset) PowerOff() {}

// chainer answers like a T=0 card behind a TPDU reader (ISO/IEC 7816-3
// clause 12.2.2, ISO/IEC 7816-4 clause 5.3.4): response data is held back
// and announced with 61xx (xx = bytes available, 00 = 256 or more), and
// GET RESPONSE 00 C0 00 00 Le delivers it.
type chainer struct {
	vpcd.Card
	short256 bool // deliver 255 bytes when 256 were announced as 61 00

	mu      sync.Mutex
	pending []byte
}

func (c *chainer) Transmit(cmd []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(cmd) >= 4 && cmd[0] == 0x00 && cmd[1] == 0xC0 && cmd[2] == 0 && cmd[3] == 0 {
		return c.getResponse(cmd)
	}
	c.pending = nil
	resp := c.Card.Transmit(cmd)
	if len(resp) <= 2 || resp[len(resp)-2] != 0x90 || resp[len(resp)-1] != 0x00 {
		return resp
	}
	c.pending = append([]byte(nil), resp[:len(resp)-2]...)
	return announce(len(c.pending))
}

func announce(n int) []byte {
	if n >= 256 {
		return []byte{0x61, 0x00}
	}
	return []byte{0x61, byte(n)}
}

func (c *chainer) getResponse(cmd []byte) []byte {
	if len(c.pending) == 0 {
		return []byte{0x69, 0x85}
	}
	ne := 256
	if len(cmd) == 5 && cmd[4] != 0 {
		ne = int(cmd[4])
	}
	n := min(ne, len(c.pending))
	out := append([]byte(nil), c.pending[:n]...)
	if c.short256 && n == 256 {
		out = out[:255]
	}
	c.pending = c.pending[n:]
	if len(c.pending) > 0 {
		return append(out, announce(len(c.pending))...)
	}
	return append(out, 0x90, 0x00)
}
