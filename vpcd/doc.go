// Package vpcd implements both ends of the vsmartcard vpcd ⇄ virtual-card wire
// protocol, as described in docs/vpcd-pcscd.md (cited below as
// "docs/vpcd-pcscd.md §N").
//
// The card side ([CardSide]) dials pcscd's vpcd driver (normal mode, §1.1,
// §10.9) and serves a [Card]: a simulated My Number Card, or [EchoCard] for
// transport tests and benchmarks. It reconnects with back-off when pcscd is
// absent or restarts (§6.3), and can be removed and re-inserted on command.
//
// The reader side ([Reader]) plays the driver: it listens on loopback, accepts
// one card connection at a time and drives it the way pcscd drives vpcd
// (§3.2, §3.3). Its Transmit/ATR/Reset/Close method set lets test suites run a
// card over the real wire format without pcscd.
//
// Both sides share the framing in frame.go (§2): a 2-byte big-endian length
// and 1..65535 payload bytes, where a 1-byte payload is a control code
// (§3.1). Both sides write each frame in one Write with TCP_NODELAY and, on
// Linux, re-arm TCP_QUICKACK before every read, because Debian 12's vpcd sends
// header and body in two segments and would otherwise pay a delayed ACK of
// about 40 ms per message (§5.4).
package vpcd
