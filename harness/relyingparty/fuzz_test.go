package relyingparty_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/mynahil/mynahil/harness/relyingparty"
)

// fuzzCA is a CA, a leaf it signed, a CRL and an OCSP response for it: the
// seeds of the fuzz targets. Keys come from keypool's fixture: under
// fuzzing instrumentation generating keys takes minutes.
func fuzzCA(f *testing.F) (ca *testCA, leaf *x509.Certificate, crl, ocspResp []byte) {
	b, err := os.ReadFile(filepath.Join("..", "..", "simcard", "keypool", "testdata", "keys.pem"))
	if err != nil {
		f.Fatal(err)
	}
	// The fixture is shared with the simulator's tests; it is parsed here
	// without importing simcard (the harness stays independent of it).
	var k []*rsa.PrivateKey
	for blk, rest := pem.Decode(b); blk != nil && len(k) < 2; blk, rest = pem.Decode(rest) {
		key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			f.Fatal(err)
		}
		k = append(k, key)
	}
	if len(k) < 2 {
		f.Fatalf("key fixture: %d keys, want 2", len(k))
	}
	ca = newCA(f, k[0], "fuzz root")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k[1].PublicKey, ca.key)
	if err != nil {
		f.Fatal(err)
	}
	if leaf, err = x509.ParseCertificate(der); err != nil {
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
