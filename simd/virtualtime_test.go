package simd

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/interop"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
)

// fetch GETs url and returns the body.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return b
}

// ocspChecker runs the real openssl ocsp against the daemon's responder at
// the daemon's virtual time: -attime verifies the chain at that time, and
// -validity_period lets the response's thisUpdate lie as far from the wall
// clock as the virtual clock does.
type ocspChecker struct {
	t       *testing.T
	openssl string
	dir     string
	ca      string // PEM file of the root
	url     string
}

func newOCSPChecker(t *testing.T, c *simapi.Client, kind authority.Kind) *ocspChecker {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		if pcscdenv.InCI() {
			t.Fatal("openssl not installed")
		}
		t.Skip("openssl not installed")
	}
	ep, err := c.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	o := &ocspChecker{t: t, openssl: openssl, dir: t.TempDir(), url: ep.OCSPAuth}
	caURL := ep.CAAuth
	if kind == authority.Sign {
		o.url, caURL = ep.OCSPSign, ep.CASign
	}
	o.ca = o.pem("ca.pem", fetch(t, caURL))
	return o
}

func (o *ocspChecker) pem(name string, der []byte) string {
	p := filepath.Join(o.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		o.t.Fatal(err)
	}
	return p
}

// status returns openssl's report on a certificate at virtual time now.
func (o *ocspChecker) status(der []byte, now time.Time) string {
	o.t.Helper()
	skew := int64(time.Since(now).Abs().Seconds()) + 3600
	out, err := exec.Command(o.openssl, "ocsp", "-issuer", o.ca, "-cert", o.pem("cert.pem", der), "-url", o.url,
		"-CAfile", o.ca, "-no_nonce", "-attime", fmt.Sprint(now.Unix()), "-validity_period", fmt.Sprint(skew),
		"-resp_text").CombinedOutput()
	if err != nil {
		o.t.Fatalf("openssl ocsp: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Response verify OK") {
		o.t.Fatalf("openssl could not verify the OCSP response at %v:\n%s", now, out)
	}
	return string(out)
}

// opensslTime is how openssl prints a time ("Apr  1 01:00:00 2027 GMT").
func opensslTime(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }

// TestVirtualTimeRevocation: on a virtual clock a year after issuance,
// the real openssl ocsp sees the card's certificate good, then revoked at
// the virtual time, with thisUpdate at the virtual time; the CRL's
// thisUpdate, nextUpdate and revocation date follow the virtual clock too.
func TestVirtualTimeRevocation(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, shortTempDir(t), nil, Config{ClockSpec: "virtual:2026-04-01T10:00:00+09:00"})
	r.waitCard()
	c := clientOf(t, r)
	now, err := c.Time(ctx, simapi.TimeParams{Years: 1, Months: 0, Days: 0})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2027, time.April, 1, 10, 0, 0, 0, clock.JST)
	if !now.Now.Equal(want) {
		t.Fatalf("virtual time %v, want %v", now.Now, want)
	}
	rep, err := c.Report(ctx, simapi.CardParams{Card: "card-1"})
	if err != nil {
		t.Fatal(err)
	}
	auth := rep.Certificate(simapi.Auth, simapi.OnCard)
	o := newOCSPChecker(t, c, authority.Auth)

	out := o.status(auth.DER, want)
	if !strings.Contains(out, ": good") || !strings.Contains(out, "This Update: "+opensslTime(want)) {
		t.Fatalf("openssl ocsp before the revocation, want good with thisUpdate %s:\n%s", opensslTime(want), out)
	}
	// The office takes the card out of the Go reader and answers once the
	// reader has powered it up again.
	revoked := make(chan error, 1)
	go func() {
		_, err := c.Revoke(ctx, simapi.CertParams{Card: "card-1", Kind: simapi.Auth})
		revoked <- err
	}()
	r.waitGone()
	r.waitCard()
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	out = o.status(auth.DER, want)
	if !strings.Contains(out, ": revoked") || !strings.Contains(out, "Revocation Time: "+opensslTime(want)) {
		t.Fatalf("openssl ocsp after the revocation, want revoked at %s:\n%s", opensslTime(want), out)
	}

	ep, err := c.Endpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(fetch(t, ep.CRLAuth))
	if err != nil {
		t.Fatal(err)
	}
	if !crl.ThisUpdate.Equal(want) || !crl.NextUpdate.After(want) || crl.NextUpdate.After(want.AddDate(0, 0, 7)) {
		t.Errorf("CRL thisUpdate %v, nextUpdate %v; want thisUpdate at the virtual %v", crl.ThisUpdate, crl.NextUpdate, want)
	}
	listed := false
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Int64() == auth.Serial {
			listed = e.RevocationTime.Equal(want)
			if !listed {
				t.Errorf("CRL revocation date %v, want the virtual %v", e.RevocationTime, want)
			}
		}
	}
	if !listed {
		t.Errorf("CRL does not list the revoked serial %d", auth.Serial)
	}
}

// TestRenewalThroughPCSCD: a daemon on a virtual clock, moved into the
// authentication certificate's renewal window, renews through office.renew;
// OpenSC's pkcs15-tool, through the real pcscd, then reads the renewed
// certificate from the card, and openssl ocsp sees the old one revoked
// (superseded) and the new one good at the virtual time.
func TestRenewalThroughPCSCD(t *testing.T) {
	pcscdenv.Require(t)
	if err := interop.Require("pkcs15-tool", "openssl"); err != nil {
		if pcscdenv.InCI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	const slot = 1
	reader := ReaderName(slot)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		t.Fatalf("waiting for %q to be free: %v", reader, err)
	}
	d, err := Open(Config{StateDir: shortTempDir(t), FirstSlot: slot, Backoff: 20 * time.Millisecond,
		ClockSpec: "virtual:2026-04-01T10:00:00+09:00",
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(rctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
		t.Fatalf("card never appeared in %q: %v", reader, err)
	}
	c, err := simapi.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	rep, err := c.Report(ctx, simapi.CardParams{Card: "card-1"})
	if err != nil {
		t.Fatal(err)
	}
	old := rep.Certificate(simapi.Auth, simapi.OnCard)
	onCard, err := interop.ReadCertificate(ctx, reader, "01", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(onCard) != string(old.DER) {
		t.Fatal("pkcs15-tool reads another certificate than the office issued")
	}
	// Renewal is refused before the window and allowed inside it.
	if _, err := c.Renew(ctx, simapi.RenewParams{Card: "card-1"}); err == nil {
		t.Fatal("renewal allowed on the day of issue")
	}
	at := old.NotAfter.AddDate(0, -2, 0)
	if _, err := c.SetTime(ctx, at); err != nil {
		t.Fatal(err)
	}
	renewed, err := c.Renew(ctx, simapi.RenewParams{Card: "card-1"})
	if err != nil {
		t.Fatal(err)
	}
	fresh := renewed.Certificate(simapi.Auth, simapi.OnCard)
	if fresh.Serial == old.Serial || !fresh.NotBefore.Equal(at.Truncate(time.Second)) && !fresh.NotBefore.Before(at) {
		t.Fatalf("renewed certificate %+v, want a new serial valid from the virtual %v", fresh.Serial, at)
	}
	onCard, err = interop.ReadCertificate(ctx, reader, "01", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(onCard) != string(fresh.DER) {
		t.Fatalf("after renewal pkcs15-tool reads serial %s, want the renewed #%d", serialOf(t, onCard), fresh.Serial)
	}
	o := newOCSPChecker(t, c, authority.Auth)
	if out := o.status(old.DER, at); !strings.Contains(out, ": revoked") || !strings.Contains(out, "superseded") {
		t.Errorf("openssl ocsp on the renewed-away certificate, want revoked (superseded):\n%s", out)
	}
	if out := o.status(fresh.DER, at); !strings.Contains(out, ": good") {
		t.Errorf("openssl ocsp on the renewed certificate, want good:\n%s", out)
	}
}

func serialOf(t *testing.T, der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "unparsable"
	}
	return c.SerialNumber.String()
}
