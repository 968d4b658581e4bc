package relyingparty_test

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/mynahil/mynahil/harness/relyingparty"
)

// fuzzCA is a CA, a leaf it signed, a CRL and an OCSP response for it: the
// seeds of the fuzz targets (keys come from the suite's shared pool).
func fuzzCA(f *testing.F) (ca *testCA, leaf *x509.Certificate, crl, ocspResp []byte) {
	ca = newCA(f, keys(f)[0], "fuzz root")
	der := ca.leaf(f, 7, t0.AddDate(0, -1, 0), t0.AddDate(1, 0, 0))
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		f.Fatal(err)
	}
	crl, err = x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(3), ThisUpdate: t0, NextUpdate: t0.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), RevocationTime: t0, ReasonCode: 1}}}, ca.cert, ca.key)
	if err != nil {
		f.Fatal(err)
	}
	ocspResp, err = ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: ocsp.Revoked, SerialNumber: big.NewInt(7),
		ThisUpdate: t0, NextUpdate: t0.Add(time.Hour), RevokedAt: t0, RevocationReason: 1}, ca.key)
	if err != nil {
		f.Fatal(err)
	}
	return ca, leaf, crl, ocspResp
}

// FuzzCheckCRL feeds arbitrary bytes to the relying party's CRL check: it
// must return an error or a CRL, never panic; bytes it accepts must carry
// the CA's signature.
func FuzzCheckCRL(f *testing.F) {
	ca, _, crl, _ := fuzzCA(f)
	f.Add(crl)
	f.Add(crl[:len(crl)/2])
	f.Add([]byte{0x30, 0x82, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, der []byte) {
		got, err := relyingparty.CheckCRL(der, ca.cert, t0.Add(time.Hour))
		if err == nil && got.CheckSignatureFrom(ca.cert) != nil {
			t.Fatal("accepted a CRL the CA did not sign")
		}
	})
}

// FuzzCheckOCSP feeds arbitrary bytes to the relying party's OCSP response
// check: an error or a verdict, never a panic.
func FuzzCheckOCSP(f *testing.F) {
	ca, leaf, _, resp := fuzzCA(f)
	f.Add(resp)
	f.Add(resp[:len(resp)/2])
	f.Add(ocsp.MalformedRequestErrorResponse)
	f.Add(ocsp.UnauthorizedErrorResponse)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := relyingparty.CheckOCSP(b, leaf, ca.cert, t0.Add(time.Minute))
		if err == nil && v == nil {
			t.Fatal("no verdict and no error")
		}
	})
}
