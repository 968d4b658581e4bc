package vpcd

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Option configures a CardSide or a Reader. Options that only make sense
// for one side say so and are ignored by the other.
type Option func(*options)

type options struct {
	addr       string
	logger     *slog.Logger
	minBackoff time.Duration
	maxBackoff time.Duration
	faults     Faults
	timeout    time.Duration
}

const (
	defaultMinBackoff = 50 * time.Millisecond
	defaultMaxBackoff = 2 * time.Second
	defaultTimeout    = 5 * time.Second
)

func buildOptions(addr string, opts []Option) options {
	o := options{
		addr:       addr,
		logger:     slog.Default(),
		minBackoff: defaultMinBackoff,
		maxBackoff: defaultMaxBackoff,
		timeout:    defaultTimeout,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithAddr sets the card side's dial address (default DefaultAddr). The
// Reader takes its listen address as an argument instead.
func WithAddr(addr string) Option {
	return func(o *options) { o.addr = addr }
}

// WithSlot makes the card side dial 127.0.0.1:DefaultPort+n, vpcd's port for
// slot n (docs/vpcd-pcscd.md §1.2).
func WithSlot(n int) Option {
	return WithAddr(net.JoinHostPort("127.0.0.1", strconv.Itoa(DefaultPort+n)))
}

// WithLogger sets the logger for connection events and protocol errors
// (default slog.Default()). Per-frame traffic is logged at Debug level.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithBackoff sets the card side's reconnect back-off: it starts at first
// and doubles up to limit (default 50 ms → 2 s; docs/vpcd-pcscd.md §10.1).
func WithBackoff(first, limit time.Duration) Option {
	return func(o *options) {
		if first > 0 {
			o.minBackoff = first
		}
		o.maxBackoff = max(limit, o.minBackoff)
	}
}

// WithFaults installs a fault-injection hook on the card side; see Faults.
// CardSide.SetFaults changes it while running.
func WithFaults(f Faults) Option {
	return func(o *options) { o.faults = f }
}

// WithTimeout bounds how long the Reader waits for a card's reply (default
// 5 s; 0 waits forever, like vpcd itself, docs/vpcd-pcscd.md §5.1). On the
// card side it bounds how long the rest of a started frame may take: a peer
// that stalls mid-frame is dropped (ErrStalled) and the card reconnects.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = max(d, 0) }
}

// frameKind names a payload for logs.
func frameKind(p []byte) string {
	if len(p) != 1 {
		return fmt.Sprintf("APDU (%d bytes)", len(p))
	}
	switch p[0] {
	case CtrlPowerOff:
		return "POWER_OFF"
	case CtrlPowerOn:
		return "POWER_ON"
	case CtrlReset:
		return "RESET"
	case CtrlGetATR:
		return "GET_ATR"
	}
	return fmt.Sprintf("unknown control code %02X", p[0])
}
