package authority_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/responder"
)

// BenchmarkOCSPOverHTTP is one relying-party status check: request, POST
// over loopback, signed response, parse and verify.
func BenchmarkOCSPOverHTTP(b *testing.B) {
	a, _ := newAuthority(b, clock.Date(2026, time.April, 1))
	cert := issue(b, a, authority.Sign, "")
	srv, err := responder.Serve(a, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	url := srv.OCSPURL(authority.Sign)
	for b.Loop() {
		req, err := ocsp.CreateRequest(cert, a.SignCA.Cert, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if r, err := ocsp.ParseResponseForCert(body, cert, a.SignCA.Cert); err != nil || r.Status != ocsp.Good {
			b.Fatalf("response: %v", err)
		}
	}
}

// BenchmarkRevokeAndCRL is one revocation with the CRL re-signed, as a
// change of facts costs the authority, with 1,000 revoked entries listed.
func BenchmarkRevokeAndCRL(b *testing.B) {
	a, _ := newAuthority(b, clock.Date(2026, time.April, 1))
	var serials []int64
	for range 1000 + b.N {
		serials = append(serials, issue(b, a, authority.Sign, "").SerialNumber.Int64())
	}
	for _, s := range serials[:1000] {
		if _, err := a.Revoke(s, authority.AffiliationChanged); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := a.Revoke(serials[1000+i], authority.AffiliationChanged); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	der, _ := a.CRL(authority.Sign)
	b.ReportMetric(float64(len(der)), "CRL-bytes")
}
