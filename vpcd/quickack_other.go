//go:build !linux

package vpcd

import "net"

// quickAck is a no-op outside Linux: TCP_QUICKACK is Linux-only
// (docs/vpcd-pcscd.md §5.4).
type quickAck struct{}

var quickAckDisabled bool

func newQuickAck(net.Conn) quickAck { return quickAck{} }

func (quickAck) arm() {}
