package simd

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

// freePort is a loopback port nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// With --relying-party the CA, CRL and OCSP endpoints answer at that
// address as soon as Open returns, before any office.endpoints call, and
// office.endpoints reports the same address (docs/daemon.md).
func TestRelyingPartyAtFixedAddress(t *testing.T) {
	addr := freePort(t)
	d, err := Open(Config{StateDir: shortTempDir(t), Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), RelyingParty: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, path := range []string{"/ca/auth.der", "/ca/sign.der", "/crl/auth.crl", "/crl/sign.crl"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s before office.endpoints: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if strings.HasPrefix(path, "/ca/") {
			if _, err := x509.ParseCertificate(body); err != nil {
				t.Errorf("GET %s: not a certificate: %v", path, err)
			}
		}
	}
	ep, err := d.reg.API().Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://" + addr + "/ca/auth.der"; ep.CAAuth != want {
		t.Errorf("office.endpoints CA = %q, want %q", ep.CAAuth, want)
	}
}

// Only a loopback host with a fixed port is accepted; a port in use is an
// error of Open, not a silent move to another port.
func TestRelyingPartyRefused(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "192.0.2.1:8080", "[::]:8080", "example.com:8080", "127.0.0.1:0", "127.0.0.1", "127.0.0.1:http"} {
		_, err := Open(Config{StateDir: shortTempDir(t), Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), RelyingParty: addr})
		if !errors.Is(err, ErrBadRelyingParty) {
			t.Errorf("--relying-party %s: Open = %v, want ErrBadRelyingParty", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.2:1", "[::1]:1", "localhost:1"} {
		if err := checkRelyingParty(addr); err != nil {
			t.Errorf("--relying-party %s refused: %v", addr, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	state := shortTempDir(t)
	if _, err := Open(Config{StateDir: state, Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), RelyingParty: ln.Addr().String()}); err == nil || errors.Is(err, ErrBadRelyingParty) {
		t.Fatalf("--relying-party on a port in use: Open = %v, want a listen error", err)
	}
	d, err := Open(Config{StateDir: state, Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open after a failed --relying-party: %v", err)
	}
	d.Close()
}

// --timing puts every card of the run on that timing profile; an unknown
// profile is a usage error of Open.
func TestTimingFlag(t *testing.T) {
	d, err := Open(Config{StateDir: shortTempDir(t), Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), Timing: "contactless"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, c := range d.reg.Cards() {
		if got := c.Chip.Timing(); got != "contactless" {
			t.Errorf("card %s answers with timing %q, want contactless", c.ID, got)
		}
	}
	if _, err := Open(Config{StateDir: shortTempDir(t), Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), Timing: "warp"}); !errors.Is(err, ErrBadTiming) {
		t.Errorf("Open with --timing warp = %v, want ErrBadTiming", err)
	}
}
