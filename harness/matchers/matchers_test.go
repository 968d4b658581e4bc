package matchers

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega/types"

	"github.com/mynahil/mynahil/harness/apduclient"
)

type matchCase struct {
	name    string
	matcher types.GomegaMatcher
	actual  any
	want    bool
	// failure message (To for want=false, NotTo for want=true) must contain:
	msg string
	// the matcher must refuse the actual with an error
	wantErr bool
}

func run(t *testing.T, tests []matchCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := tt.matcher.Match(tt.actual)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Match = %v, want an error", ok)
				}
				return
			}
			if err != nil {
				t.Fatalf("Match error: %v", err)
			}
			if ok != tt.want {
				t.Fatalf("Match = %v, want %v", ok, tt.want)
			}
			msg := tt.matcher.FailureMessage(tt.actual)
			if tt.want {
				msg = tt.matcher.NegatedFailureMessage(tt.actual)
			}
			if !strings.Contains(msg, tt.msg) {
				t.Errorf("message\n%s\ndoes not contain %q", msg, tt.msg)
			}
		})
	}
}

func TestHaveStatusWord(t *testing.T) {
	wrapped := fmt.Errorf("verifying auth PIN: %w", apduclient.CheckSW(0x63C2))
	run(t, []matchCase{
		{name: "response bytes", matcher: HaveStatusWord(0x63C2), actual: []byte{0x63, 0xC2}, want: true, msg: "not to have status word 63C2"},
		{name: "response with data", matcher: HaveStatusWord(0x9000), actual: []byte{1, 2, 0x90, 0x00}, want: true},
		{name: "different SW", matcher: HaveStatusWord(0x63C3), actual: []byte{0x63, 0xC2}, want: false,
			msg: "to have status word 63C3 (verification failed, 3 tries left), but it is 63C2 (verification failed, 2 tries left)"},
		{name: "wrapped error", matcher: HaveStatusWord(0x63C2), actual: wrapped, want: true},
		{name: "6982 error", matcher: HaveStatusWord(0x6982), actual: apduclient.CheckSW(0x6982), want: true},
		{name: "nil error is 9000", matcher: HaveStatusWord(0x9000), actual: nil, want: true},
		{name: "nil error is not 6A82", matcher: HaveStatusWord(0x6A82), actual: nil, want: false, msg: "but it is 9000 (success)"},
		{name: "apduclient.Response", matcher: HaveStatusWord(0x6B00), actual: apduclient.Response{SW: 0x6B00}, want: true},
		{name: "error without SW", matcher: HaveStatusWord(0x9000), actual: errors.New("reader gone"), wantErr: true},
		{name: "one byte", matcher: HaveStatusWord(0x9000), actual: []byte{0x90}, wantErr: true},
		{name: "wrong type", matcher: HaveStatusWord(0x9000), actual: 42, wantErr: true},
	})
}

func TestBeWrongPINAndTriesLeft(t *testing.T) {
	wrong := fmt.Errorf("verifying sign PIN: %w", apduclient.CheckSW(0x63C4))
	run(t, []matchCase{
		{name: "63C4 error is wrong PIN", matcher: BeWrongPIN(), actual: wrong, want: true, msg: "not to be a wrong-PIN answer"},
		{name: "6984 is not", matcher: BeWrongPIN(), actual: apduclient.CheckSW(0x6984), want: false, msg: "but it is 6984 (reference data not usable)"},
		{name: "nil is not", matcher: BeWrongPIN(), actual: nil, want: false, msg: "but it is no error"},
		{name: "63C1 response is", matcher: BeWrongPIN(), actual: []byte{0x63, 0xC1}, want: true},
		{name: "tries from error", matcher: HaveTriesLeft(4), actual: wrong, want: true},
		{name: "tries mismatch", matcher: HaveTriesLeft(3), actual: wrong, want: false, msg: "to show 3 PIN tries left, but it shows 4"},
		{name: "tries from int", matcher: HaveTriesLeft(3), actual: 3, want: true},
		{name: "tries from response", matcher: HaveTriesLeft(0), actual: []byte{0x63, 0xC0}, want: true},
		{name: "no count in 6982", matcher: HaveTriesLeft(0), actual: apduclient.CheckSW(0x6982), want: false, msg: "not a 63Cx answer"},
		{name: "no count in 9000 response", matcher: HaveTriesLeft(0), actual: []byte{0x90, 0x00}, want: false, msg: "status word 9000"},
		{name: "no error", matcher: HaveTriesLeft(3), actual: nil, want: false, msg: "there is no error"},
	})
}

var (
	pkiOnce          sync.Once
	caKey, leafKey   *rsa.PrivateKey
	caCert, otherCA  *x509.Certificate
	leafCert, forged *x509.Certificate
)

func pki(t *testing.T) {
	t.Helper()
	pkiOnce.Do(func() {
		var err error
		must := func(e error) {
			if e != nil {
				panic(e)
			}
		}
		caKey, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		leafKey, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		mk := func(tmpl, parent *x509.Certificate, pub *rsa.PublicKey, priv *rsa.PrivateKey) *x509.Certificate {
			der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
			must(err)
			c, err := x509.ParseCertificate(der)
			must(err)
			return c
		}
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{Country: []string{"JP"}, Organization: []string{"JPKI"}, OrganizationalUnit: []string{"JPKI for user authentication"}},
			NotBefore:    time.Date(2023, 7, 16, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2033, 7, 15, 0, 0, 0, 0, time.UTC),
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
		}
		caCert = mk(caTmpl, caTmpl, &caKey.PublicKey, caKey)
		otherTmpl := *caTmpl
		otherTmpl.Subject.OrganizationalUnit = []string{"JPKI for digital signature"}
		otherCA = mk(&otherTmpl, &otherTmpl, &leafKey.PublicKey, leafKey)
		leafTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(77), Subject: pkix.Name{Country: []string{"JP"}, CommonName: "8439000000000000000000"},
			NotBefore: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 3, 31, 23, 59, 59, 0, time.UTC),
			KeyUsage: x509.KeyUsageDigitalSignature,
		}
		leafCert = mk(leafTmpl, caCert, &leafKey.PublicKey, caKey)
		// an impostor CA with caCert's name but another key
		impostor := mk(caTmpl, caTmpl, &leafKey.PublicKey, leafKey)
		forged = mk(leafTmpl, impostor, &leafKey.PublicKey, leafKey)
	})
}

func TestBeSignedBy(t *testing.T) {
	pki(t)
	run(t, []matchCase{
		{name: "issued by CA", matcher: BeSignedBy(caCert), actual: leafCert, want: true, msg: "not to be signed by"},
		{name: "DER", matcher: BeSignedBy(caCert), actual: leafCert.Raw, want: true},
		{name: "CA self-signed", matcher: BeSignedBy(caCert), actual: caCert, want: true},
		{name: "other issuer name", matcher: BeSignedBy(otherCA), actual: leafCert, want: false, msg: "its issuer is"},
		{name: "right name, wrong key", matcher: BeSignedBy(caCert), actual: forged, want: false, msg: "verification error"},
		{name: "garbage DER", matcher: BeSignedBy(caCert), actual: []byte{0x30, 0x00}, wantErr: true},
		{name: "nil CA", matcher: BeSignedBy(nil), actual: leafCert, wantErr: true},
	})
}

func TestVerifySignature(t *testing.T) {
	pki(t)
	digest := sha256.Sum256([]byte("mynahil"))
	sig, err := rsa.SignPKCS1v15(nil, leafKey, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("raw input")
	rawSig, _ := rsa.SignPKCS1v15(nil, leafKey, 0, raw)
	bad := append([]byte(nil), sig...)
	bad[10] ^= 1
	other := sha256.Sum256([]byte("other"))
	run(t, []matchCase{
		{name: "good", matcher: VerifySignature(leafCert, digest[:], crypto.SHA256), actual: sig, want: true, msg: "not to verify"},
		{name: "flipped bit", matcher: VerifySignature(leafCert, digest[:], crypto.SHA256), actual: bad, want: false, msg: "it does not (256-byte signature, 2048-bit key)"},
		{name: "other digest", matcher: VerifySignature(leafCert, other[:], crypto.SHA256), actual: sig, want: false},
		{name: "wrong key", matcher: VerifySignature(caCert, digest[:], crypto.SHA256), actual: sig, want: false},
		{name: "raw", matcher: VerifySignature(leafCert, raw, 0), actual: rawSig, want: true},
		{name: "not bytes", matcher: VerifySignature(leafCert, raw, 0), actual: "sig", wantErr: true},
	})
}

func TestBeValidAt(t *testing.T) {
	pki(t)
	run(t, []matchCase{
		{name: "inside", matcher: BeValidAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), actual: leafCert, want: true},
		{name: "first second", matcher: BeValidAt(leafCert.NotBefore), actual: leafCert, want: true},
		{name: "last second", matcher: BeValidAt(leafCert.NotAfter), actual: leafCert, want: true},
		{name: "before", matcher: BeValidAt(leafCert.NotBefore.Add(-time.Second)), actual: leafCert, want: false,
			msg: "to be valid at 2025-03-31T23:59:59Z; it is valid from 2025-04-01T00:00:00Z to 2030-03-31T23:59:59Z"},
		{name: "after", matcher: BeValidAt(leafCert.NotAfter.Add(time.Second)), actual: leafCert.Raw, want: false, msg: "8439000000000000000000"},
		{name: "not a certificate", matcher: BeValidAt(time.Now()), actual: 7, wantErr: true},
	})
}

// TestCertificateDescriptionHidesAddress: a signing certificate's subject
// localities are the holder's prefecture and city; a failure message, which
// lands in the suite's reports, names the certificate without them.
func TestCertificateDescriptionHidesAddress(t *testing.T) {
	pki(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(78),
		Subject:      pkix.Name{Country: []string{"JP"}, Locality: []string{"東京都", "千代田区"}, CommonName: "2026040109000000001"},
		NotBefore:    time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 3, 31, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	sign, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	m := BeSignedBy(otherCA)
	if ok, err := m.Match(sign); ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	msg := m.FailureMessage(sign)
	for _, l := range []string{"東京都", "千代田区"} {
		if strings.Contains(msg, l) {
			t.Errorf("failure message names the locality %q: %s", l, msg)
		}
	}
	if !strings.Contains(msg, "2026040109000000001") || !strings.Contains(msg, "serial 78") {
		t.Errorf("failure message does not identify the certificate: %s", msg)
	}
}
