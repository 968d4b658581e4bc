// Package matchers holds Gomega matchers that read like the card's domain:
//
//	Expect(resp).To(HaveStatusWord(0x63C2))
//	Expect(err).To(BeWrongPIN())
//	Expect(err).To(HaveTriesLeft(2))
//	Expect(cert).To(BeSignedBy(ca))
//	Expect(sig).To(VerifySignature(cert, digest, crypto.SHA256))
//	Expect(cert).To(BeValidAt(now))
//
// Each call returns a fresh matcher that remembers what it found for its
// failure message, so use one per assertion, as Gomega code usually does.
//
// Status words follow ISO/IEC 7816-4 clause 5.6 and docs/card.md §4.6;
// signatures are PKCS#1 v1.5 (docs/card.md §5.6, §6).
package matchers

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/mynahil/mynahil/harness/apduclient"
)

// outcome carries what a match found to the failure message template.
// Actual is a short rendering used instead of Gomega's object dump, which
// for a certificate or a 256-byte signature would bury the message.
type outcome struct {
	Actual, Want, Got string
}

// describe renders actual for a failure message.
func describe(actual any) string {
	switch a := actual.(type) {
	case nil:
		return "<nil>"
	case []byte:
		if len(a) > 24 {
			return fmt.Sprintf("%d bytes: % X … % X", len(a), a[:8], a[len(a)-8:])
		}
		return fmt.Sprintf("% X", a)
	case apduclient.Response:
		return fmt.Sprintf("data %s, SW %04X", describe(a.Data), a.SW)
	case *apduclient.Response:
		return describe(*a)
	case *x509.Certificate:
		if a == nil {
			return "<nil certificate>"
		}
		return fmt.Sprintf("%q (serial %s)", publicSubject(a), a.SerialNumber)
	case x509.Certificate:
		return describe(&a)
	case error:
		return a.Error()
	}
	return fmt.Sprintf("%v", actual)
}

// publicSubject is the subject of c with only its country, organisation
// and common name: a signing certificate's localities are the holder's
// address (docs/card.md §6, certificate profile), and failure messages
// end up in reports.
func publicSubject(c *x509.Certificate) string {
	n := pkix.Name{Country: c.Subject.Country, Organization: c.Subject.Organization,
		OrganizationalUnit: c.Subject.OrganizationalUnit, CommonName: c.Subject.CommonName}
	return n.String()
}

func sw(s uint16) string { return fmt.Sprintf("%04X (%s)", s, apduclient.Describe(s)) }

// statusWordOf extracts a status word from a response APDU ([]byte), an
// apduclient.Response or an error (nil meaning 9000).
func statusWordOf(actual any) (uint16, error) {
	switch a := actual.(type) {
	case []byte:
		r, err := apduclient.ParseResponse(a)
		if err != nil {
			return 0, err
		}
		return r.SW, nil
	case apduclient.Response:
		return a.SW, nil
	case *apduclient.Response:
		return a.SW, nil
	case nil:
		return apduclient.SWSuccess, nil
	case error:
		if s, ok := apduclient.StatusOf(a); ok {
			return s, nil
		}
		return 0, fmt.Errorf("the error carries no status word: %v", a)
	}
	return 0, fmt.Errorf("want a response APDU ([]byte or apduclient.Response) or an error, got %T", actual)
}

// HaveStatusWord succeeds when the response APDU ([]byte, apduclient.Response) or
// the error (nil counts as 9000) carries the status word want.
func HaveStatusWord(want uint16) types.GomegaMatcher {
	o := &outcome{Want: sw(want)}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		got, err := statusWordOf(actual)
		if err != nil {
			return false, fmt.Errorf("HaveStatusWord: %w", err)
		}
		o.Got = sw(got)
		return got == want, nil
	}).WithTemplate("Expected the card's answer\n    {{.Data.Actual}}\n{{.To}} have status word {{.Data.Want}}, but it is {{.Data.Got}}", o)
}

// BeWrongPIN succeeds when the error (or response) is a 63Cx answer:
// a wrong PIN, whatever the tries left.
func BeWrongPIN() types.GomegaMatcher {
	o := &outcome{Want: "63Cx"}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		if actual == nil {
			o.Got = "no error"
			return false, nil
		}
		if err, ok := actual.(error); ok && errors.Is(err, apduclient.ErrWrongPIN) {
			return true, nil
		}
		got, err := statusWordOf(actual)
		if err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = sw(got)
		return got&0xFFF0 == 0x63C0, nil
	}).WithTemplate("Expected\n    {{.Data.Actual}}\n{{.To}} be a wrong-PIN answer (SW 63Cx), but it is {{.Data.Got}}", o)
}

// HaveTriesLeft succeeds when a PIN has n tries left. actual is an int (from
// jpki.Client.TriesLeft), an error wrapping *apduclient.WrongPINError, or a
// response APDU with SW 63Cx.
func HaveTriesLeft(n int) types.GomegaMatcher {
	o := &outcome{Want: fmt.Sprint(n)}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		switch a := actual.(type) {
		case int:
			o.Got = fmt.Sprint(a)
			return a == n, nil
		case error:
			var wp *apduclient.WrongPINError
			if !errors.As(a, &wp) {
				o.Got = fmt.Sprintf("no count: the error is not a 63Cx answer (%v)", a)
				return false, nil
			}
			o.Got = fmt.Sprint(wp.TriesLeft)
			return wp.TriesLeft == n, nil
		case nil:
			o.Got = "no count: there is no error"
			return false, nil
		}
		got, err := statusWordOf(actual)
		if err != nil {
			return false, fmt.Errorf("HaveTriesLeft: %w", err)
		}
		if got&0xFFF0 != 0x63C0 {
			o.Got = "no count: status word " + sw(got)
			return false, nil
		}
		o.Got = fmt.Sprint(got & 0x0F)
		return int(got&0x0F) == n, nil
	}).WithTemplate("Expected\n    {{.Data.Actual}}\n{{.To}} show {{.Data.Want}} PIN tries left, but it shows {{.Data.Got}}", o)
}

// certOf accepts a *x509.Certificate, an x509.Certificate or DER bytes.
func certOf(actual any) (*x509.Certificate, error) {
	switch a := actual.(type) {
	case *x509.Certificate:
		if a == nil {
			return nil, errors.New("nil certificate")
		}
		return a, nil
	case x509.Certificate:
		return &a, nil
	case []byte:
		c, err := x509.ParseCertificate(a)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("want a certificate (*x509.Certificate or DER []byte), got %T", actual)
}

// BeSignedBy succeeds when the certificate (or its DER) names ca as its
// issuer and ca's key verifies its signature, with ca allowed to sign
// certificates (x509.Certificate.CheckSignatureFrom). JPKI end-entity
// certificates are issued directly by the root (docs/card.md §6).
func BeSignedBy(ca *x509.Certificate) types.GomegaMatcher {
	o := &outcome{}
	if ca != nil {
		o.Want = publicSubject(ca)
	}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		if ca == nil {
			return false, errors.New("BeSignedBy: nil CA certificate")
		}
		c, err := certOf(actual)
		if err != nil {
			return false, fmt.Errorf("BeSignedBy: %w", err)
		}
		o.Actual = describe(c)
		if !bytes.Equal(c.RawIssuer, ca.RawSubject) {
			o.Got = fmt.Sprintf("its issuer is %q", c.Issuer.String())
			return false, nil
		}
		if err := c.CheckSignatureFrom(ca); err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = "it is"
		return true, nil
	}).WithTemplate("Expected certificate\n    {{.Data.Actual}}\n{{.To}} be signed by {{printf \"%q\" .Data.Want}}: {{.Data.Got}}", o)
}

// VerifySignature succeeds when the actual []byte is a PKCS#1 v1.5
// signature by cert's RSA key over the DigestInfo of digest (what
// jpki.Client.Sign produces). With hash 0, digest is the raw signed input,
// as for jpki.Client.SignRaw.
func VerifySignature(cert *x509.Certificate, digest []byte, hash crypto.Hash) types.GomegaMatcher {
	o := &outcome{Want: hash.String()}
	if hash == 0 {
		o.Want = "raw input"
	}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		sig, ok := actual.([]byte)
		if !ok {
			return false, fmt.Errorf("VerifySignature: want a signature []byte, got %T", actual)
		}
		if cert == nil {
			return false, errors.New("VerifySignature: nil certificate")
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return false, fmt.Errorf("VerifySignature: certificate key is %T, want RSA", cert.PublicKey)
		}
		if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
			o.Got = fmt.Sprintf("it does not (%d-byte signature, %d-bit key)", len(sig), pub.N.BitLen())
			return false, nil
		}
		o.Got = "it does"
		return true, nil
	}).WithTemplate("Expected signature\n    {{.Data.Actual}}\n{{.To}} verify as PKCS#1 v1.5 over the {{.Data.Want}} DigestInfo with the certificate's key: {{.Data.Got}}", o)
}

// BeValidAt succeeds when t lies within the certificate's validity period,
// bounds included (RFC 5280 §4.1.2.5).
func BeValidAt(t time.Time) types.GomegaMatcher {
	o := &outcome{Want: t.UTC().Format(time.RFC3339)}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o.Actual = describe(actual)
		c, err := certOf(actual)
		if err != nil {
			return false, fmt.Errorf("BeValidAt: %w", err)
		}
		o.Actual = describe(c)
		o.Got = fmt.Sprintf("%s to %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		return !t.Before(c.NotBefore) && !t.After(c.NotAfter), nil
	}).WithTemplate("Expected certificate\n    {{.Data.Actual}}\n{{.To}} be valid at {{.Data.Want}}; it is valid from {{.Data.Got}}", o)
}
