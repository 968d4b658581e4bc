//go:build linux

package vpcd

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// quickAck re-arms TCP_QUICKACK on a connection. Linux clears the flag again
// after it has acked, so it must be set before every read; setting it once
// does not help (docs/vpcd-pcscd.md §5.4, measured 2375 ms vs 7.2 ms for 50
// APDUs).
type quickAck struct {
	rc syscall.RawConn
}

// quickAckDisabled turns quick-ack off; only the live pcscd comparison test
// sets it, before any connection exists.
var quickAckDisabled bool

func newQuickAck(c net.Conn) quickAck {
	tc, ok := c.(*net.TCPConn)
	if !ok || quickAckDisabled {
		return quickAck{}
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return quickAck{}
	}
	return quickAck{rc: rc}
}

// setQuickAck is a package-level func so arming does not allocate a closure.
// A failure only costs latency, never correctness, so it is ignored.
func setQuickAck(fd uintptr) {
	_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
}

func (q quickAck) arm() {
	if q.rc != nil {
		_ = q.rc.Control(setQuickAck)
	}
}
