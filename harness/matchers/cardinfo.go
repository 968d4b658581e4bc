package matchers

import (
	"crypto/rsa"
	"fmt"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/mynahil/mynahil/harness/cardinfoclient"
)

// Matchers for the card-info applets (package cardinfo; docs/card.md §3.2,
// §3.3, §4.2):
//
//	Expect(n).To(BeValidMyNumber())
//	Expect(client).To(HaveIntegrityVerified())
//	Expect(status).To(HaveTriesLeftOn(cardinfoclient.TextPIN, 3))
//	Expect(face.NameImage).To(BePNG())
//	Expect(cert).To(BeCertifiedBy(textCA))
//
// Failure messages never show a My Number: it is 照合番号A.

// BeValidMyNumber succeeds when actual (a cardinfoclient.MyNumber or a string) is
// 12 digits whose last is the check digit of the first eleven.
func BeValidMyNumber() types.GomegaMatcher {
	o := &outcome{}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		var n cardinfoclient.MyNumber
		switch a := actual.(type) {
		case cardinfoclient.MyNumber:
			n = a
		case string:
			n = cardinfoclient.MyNumber(a)
		default:
			return false, fmt.Errorf("BeValidMyNumber: want a cardinfoclient.MyNumber or a string, got %T", actual)
		}
		o.Actual = fmt.Sprintf("a My Number of %d bytes", len(n))
		if err := n.Validate(); err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = "it is"
		return true, nil
	}).WithTemplate("Expected {{.Data.Actual}}\n{{.To}} be a valid My Number (12 digits, check digit right): {{.Data.Got}}", o)
}

// HaveIntegrityVerified succeeds when the card behind a *cardinfoclient.Client
// passes Client.VerifyIntegrity: text EF 0003's hashes match EFs 0001 and
// 0002 and its signature verifies with the key in EF 0004. The text applet
// must be selected and the card-info PIN verified. The matcher talks to the
// card.
func HaveIntegrityVerified() types.GomegaMatcher {
	o := &outcome{}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		c, ok := actual.(*cardinfoclient.Client)
		if !ok || c == nil {
			return false, fmt.Errorf("HaveIntegrityVerified: want a *cardinfoclient.Client, got %T", actual)
		}
		if _, err := c.VerifyIntegrity(); err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = "it does"
		return true, nil
	}).WithTemplate("Expected the card's integrity record (text EF 0003)\n{{.To}} vouch for EF 0001 and EF 0002 with a signature by the EF 0004 key: {{.Data.Got}}", o)
}

// HaveTriesLeftOn succeeds when the cardinfoclient.PINStatus shows n tries left
// for key.
func HaveTriesLeftOn(key cardinfoclient.Key, n int) types.GomegaMatcher {
	o := &outcome{Want: fmt.Sprintf("%d tries left on the %v", n, key)}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		s, ok := actual.(cardinfoclient.PINStatus)
		if !ok {
			return false, fmt.Errorf("HaveTriesLeftOn: want a cardinfoclient.PINStatus, got %T", actual)
		}
		o.Actual = fmt.Sprintf("%+v", s)
		got := s.Of(key)
		if got < 0 {
			return false, fmt.Errorf("HaveTriesLeftOn: unknown key %v", key)
		}
		o.Got = fmt.Sprint(got)
		return got == n, nil
	}).WithTemplate("Expected PIN status\n    {{.Data.Actual}}\n{{.To}} show {{.Data.Want}}, but it shows {{.Data.Got}}", o)
}

// BePNG succeeds when the []byte is a PNG image: signature and IHDR
// (cardinfoclient.CheckPNG), the format of the card face's images (docs/card.md
// §3.3).
func BePNG() types.GomegaMatcher {
	o := &outcome{}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		b, ok := actual.([]byte)
		if !ok {
			return false, fmt.Errorf("BePNG: want []byte, got %T", actual)
		}
		o.Actual = describe(b)
		if err := cardinfoclient.CheckPNG(b); err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = "it is"
		return true, nil
	}).WithTemplate("Expected\n    {{.Data.Actual}}\n{{.To}} be a PNG image: {{.Data.Got}}", o)
}

// BeCertifiedBy succeeds when the *cardinfoclient.CVCertificate's signature
// verifies with the CA key ca (CVCertificate.CheckSignature).
func BeCertifiedBy(ca *rsa.PublicKey) types.GomegaMatcher {
	o := &outcome{}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		c, ok := actual.(*cardinfoclient.CVCertificate)
		if !ok || c == nil {
			return false, fmt.Errorf("BeCertifiedBy: want a *cardinfoclient.CVCertificate, got %T", actual)
		}
		o.Actual = fmt.Sprintf("certificate with issuer key ID % X, subject key ID % X", c.IssuerKeyID, c.SubjectKeyID)
		if err := c.CheckSignature(ca); err != nil {
			o.Got = err.Error()
			return false, nil
		}
		o.Got = "it is"
		return true, nil
	}).WithTemplate("Expected card-verifiable {{.Data.Actual}}\n{{.To}} be signed by the given CA key: {{.Data.Got}}", o)
}
