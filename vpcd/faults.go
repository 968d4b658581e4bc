package vpcd

import (
	"encoding/binary"
	"time"
)

// Faults is the card side's fault-injection hook point, for reader- and
// middleware-conformance work: what pcscd/vpcd and clients do when a card
// misbehaves on the wire (docs/vpcd-pcscd.md §5.2, §5.3). The zero value
// injects nothing. New hooks are added as fields, so existing users keep
// compiling.
type Faults struct {
	// Reply, if set, sees every frame the card side received and decides
	// what goes back on the wire; see FaultFunc.
	Reply FaultFunc
	// InsertDelay is waited before each connection attempt, simulating a
	// slow insertion (the driver sees the card that much later).
	InsertDelay time.Duration
}

// FaultFunc is called once per received frame, after the card has handled
// it. cmd is the frame payload (1 byte for a control code). resp is what the
// card side is about to send: the ATR for GET_ATR, the validated R-APDU for
// an APDU, nil when no reply is due (00/01/02). Neither slice may be
// retained. Returning the zero Reply leaves the exchange untouched.
type FaultFunc func(cmd, resp []byte) Reply

// Action says what the card side writes instead of the normal reply.
type Action int

const (
	// Pass sends resp unchanged (or nothing, if no reply is due).
	Pass Action = iota
	// Replace sends Payload as one well-formed frame, even where no reply is
	// due (e.g. a stray answer to POWER_ON, §3.1). An empty Payload is still
	// refused (§4): use Raw for a zero-length frame.
	Replace
	// Raw writes Payload verbatim with no framing: lying headers, cut frames,
	// unsolicited bytes, zero-length frames (§5.3).
	Raw
	// Silent writes nothing and keeps the connection: a card that never
	// answers, which blocks vpcd's slot forever (§5.1).
	Silent
	// Close writes Payload verbatim (if any) and then closes the connection:
	// a card that vanishes mid-APDU or mid-frame (§5.2).
	Close
)

// Reply is a FaultFunc's verdict on one exchange.
type Reply struct {
	Action  Action
	Payload []byte
	// Delay stalls before the action is carried out. Remove and context
	// cancellation interrupt it.
	Delay time.Duration
}

func isAPDU(cmd []byte) bool { return len(cmd) >= 2 }

// CutResponse makes every APDU response announce its full length but carry
// only its first n bytes, after which the card vanishes (§5.3, "header says
// N, fewer bytes follow, then close").
func CutResponse(n int) FaultFunc {
	return func(cmd, resp []byte) Reply {
		if !isAPDU(cmd) || n >= len(resp) {
			return Reply{}
		}
		raw := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		return Reply{Action: Close, Payload: append(raw, resp[:max(n, 0)]...)}
	}
}

// CorruptSW replaces the status word of every APDU response with sw.
func CorruptSW(sw uint16) FaultFunc {
	return func(cmd, resp []byte) Reply {
		if !isAPDU(cmd) {
			return Reply{}
		}
		out := append([]byte(nil), resp...)
		binary.BigEndian.PutUint16(out[len(out)-2:], sw)
		return Reply{Action: Replace, Payload: out}
	}
}

// StallResponse delays every APDU response by d (§5.1: vpcd waits as long as
// it takes).
func StallResponse(d time.Duration) FaultFunc {
	return func(cmd, resp []byte) Reply {
		if !isAPDU(cmd) {
			return Reply{}
		}
		return Reply{Action: Pass, Delay: d}
	}
}

// VanishOnAPDU closes the connection instead of answering any APDU: pcscd
// then reports a 0-byte "success" followed by removal (§5.2, §10.10).
func VanishOnAPDU() FaultFunc {
	return func(cmd, _ []byte) Reply {
		if !isAPDU(cmd) {
			return Reply{}
		}
		return Reply{Action: Close}
	}
}
