package simd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ErrBadRelyingParty marks an Open error caused by Config.RelyingParty: an
// address that is not a loopback host with a fixed port. The CLI reports
// it as a usage error.
var ErrBadRelyingParty = errors.New("bad --relying-party")

// ErrBadTiming marks an Open error caused by Config.Timing: no such timing
// profile. The CLI reports it as a usage error.
var ErrBadTiming = errors.New("bad --timing")

// checkRelyingParty accepts "HOST:PORT" with HOST a loopback address
// (127.0.0.0/8, ::1, localhost) and PORT 1–65535: the endpoints serve
// test certificates and are unauthenticated, so they never listen beyond
// the machine (docs/daemon.md).
func checkRelyingParty(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrBadRelyingParty, addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w %q: want a fixed port 1–65535", ErrBadRelyingParty, addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err != nil || !ip.IsLoopback() {
		return fmt.Errorf("%w %q: refusing non-loopback host %q (use 127.0.0.1 or [::1])", ErrBadRelyingParty, addr, host)
	}
	return nil
}

// startRelyingParty starts the CA, CRL and OCSP endpoints at the configured
// address, if any; office.endpoints then reports that server.
func (d *Daemon) startRelyingParty() error {
	if d.cfg.RelyingParty == "" {
		return nil
	}
	s, err := d.reg.StartResponder(d.cfg.RelyingParty)
	if err != nil {
		return fmt.Errorf("starting the relying-party endpoints: %w", err)
	}
	d.log.Info("relying-party endpoints", "url", s.URL)
	return nil
}
