package simd

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/clock"
)

// TestRootsCoverTheirCertificates: a sim started after its profile's issue
// date (the built-in profile says 2026-04-01) issues the card's
// certificates from that date; the roots, created at the first start, are
// valid over every certificate they signed, so that a validator checking
// the whole chain at any moment of a certificate's validity accepts it
// (issue: the roots started at the first start minus an hour). The card has
// one issue date: the report's, its certificates' start, its history's and
// the registry's.
func TestRootsCoverTheirCertificates(t *testing.T) {
	state := shortTempDir(t)
	cfg := crashConfig(t, state)
	cfg.ClockSpec = "virtual:2026-06-15T10:00:00+09:00"
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a := d.reg.Authority()
	issued := clock.Date(2026, time.April, 1)
	records := d.reg.Records("card-1")
	if len(records) != 2 {
		t.Fatalf("%d certificates for card-1, want 2", len(records))
	}
	for _, rec := range records {
		cert, err := rec.Certificate()
		if err != nil {
			t.Fatal(err)
		}
		root := a.CA(rec.Kind).Cert
		if cert.NotBefore.Before(root.NotBefore) || cert.NotAfter.After(root.NotAfter) {
			t.Errorf("%s certificate valid %v to %v outside its root's %v to %v", rec.Kind, cert.NotBefore, cert.NotAfter, root.NotBefore, root.NotAfter)
		}
		if !cert.NotBefore.Equal(issued) {
			t.Errorf("%s certificate valid from %v, want the issue date %v", rec.Kind, cert.NotBefore, issued)
		}
		roots := x509.NewCertPool()
		roots.AddCert(root)
		for _, at := range []time.Time{cert.NotBefore, cert.NotAfter} {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Errorf("%s certificate's chain at %v: %v", rec.Kind, at, err)
			}
		}
	}
	rep, err := d.reg.Report("card-1")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.IssueDate.Equal(issued) || !rep.Certificate(simapi.Auth, simapi.OnCard).NotBefore.Equal(issued) {
		t.Errorf("report: issued %v, auth certificate from %v; want %v", rep.IssueDate, rep.Certificate(simapi.Auth, simapi.OnCard).NotBefore, issued)
	}
	for _, e := range rep.History {
		if !e.At.Equal(issued) {
			t.Errorf("history %q dated %v, want the issue date %v", e.What, e.At, issued)
		}
	}
	var reg struct {
		Cards []struct {
			IssuedAt time.Time `json:"issued_at"`
		} `json:"cards"`
	}
	readJSON(t, state, "office.json", &reg)
	if len(reg.Cards) != 1 || !reg.Cards[0].IssuedAt.Equal(issued) {
		t.Errorf("office.json: %+v, want issued_at %v", reg.Cards, issued)
	}
}
