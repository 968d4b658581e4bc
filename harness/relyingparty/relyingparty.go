// Package relyingparty is an outside verifier of JPKI certificates: what an
// online service (a 署名検証者 or 利用者証明検証者, docs/card.md §6
// "Revocation") does with a certificate read from a card. It works only from
// DER certificates, CRL bytes and OCSP over HTTP, and never imports the
// simulator, so that its verdicts judge the authority instead of sharing its
// code.
//
// The JPKI hierarchy has no intermediates: a card certificate is issued
// directly by a self-signed root (docs/card.md §6, "Common to both"), and the
// roots carry no URL for revocation data (their CRL distribution point is a
// directory name), so a relying party is configured with the CRL and OCSP
// locations of each root, as registered relying parties are by J-LIS.
package relyingparty

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Verdict is what the relying party concludes about a certificate. It is one
// of Valid, Expired, NotYetValid, Revoked, UnknownIssuer or Unknown.
type Verdict interface {
	String() string
	verdict()
}

// Valid: issued by a trusted root, inside its validity, not revoked.
type Valid struct{}

// Expired: the time checked is after the certificate's notAfter.
type Expired struct{ NotAfter time.Time }

// NotYetValid: the time checked is before the certificate's notBefore.
type NotYetValid struct{ NotBefore time.Time }

// Revoked: the CRL or the OCSP responder lists the certificate.
type Revoked struct {
	Reason Reason
	Time   time.Time
}

// UnknownIssuer: no configured root signed the certificate.
type UnknownIssuer struct{ Issuer string }

// Unknown: the OCSP responder does not know the serial number (RFC 6960
// "unknown"), which a careful relying party rejects.
type Unknown struct{}

func (Valid) verdict()         {}
func (Expired) verdict()       {}
func (NotYetValid) verdict()   {}
func (Revoked) verdict()       {}
func (UnknownIssuer) verdict() {}
func (Unknown) verdict()       {}

func (Valid) String() string { return "valid" }
func (v Expired) String() string {
	return "expired at " + v.NotAfter.UTC().Format(time.RFC3339)
}
func (v NotYetValid) String() string {
	return "not valid before " + v.NotBefore.UTC().Format(time.RFC3339)
}
func (v Revoked) String() string {
	return fmt.Sprintf("revoked (%s) at %s", v.Reason, v.Time.UTC().Format(time.RFC3339))
}
func (v UnknownIssuer) String() string { return "unknown issuer " + v.Issuer }
func (Unknown) String() string         { return "unknown to the OCSP responder" }

// Reason is an RFC 5280 §5.3.1 CRLReason code.
//
// The simulator's authority (simcard/authority) lists the same codes; they
// are written again here on purpose: the relying party judges the
// authority's CRLs and OCSP answers from outside, so it shares none of its
// code (docs/architecture.md, "Two sides, same names").
type Reason int

// Reason codes (RFC 5280 §5.3.1).
const (
	Unspecified          Reason = 0
	KeyCompromise        Reason = 1
	CACompromise         Reason = 2
	AffiliationChanged   Reason = 3
	Superseded           Reason = 4
	CessationOfOperation Reason = 5
	CertificateHold      Reason = 6
	RemoveFromCRL        Reason = 8
	PrivilegeWithdrawn   Reason = 9
	AACompromise         Reason = 10
)

// String returns the RFC 5280 name.
func (r Reason) String() string {
	names := map[Reason]string{
		Unspecified: "unspecified", KeyCompromise: "keyCompromise", CACompromise: "cACompromise",
		AffiliationChanged: "affiliationChanged", Superseded: "superseded",
		CessationOfOperation: "cessationOfOperation", CertificateHold: "certificateHold",
		RemoveFromCRL: "removeFromCRL", PrivilegeWithdrawn: "privilegeWithdrawn", AACompromise: "aACompromise",
	}
	if n, ok := names[r]; ok {
		return n
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Root is a trusted root and where its revocation data is published.
type Root struct {
	Cert    *x509.Certificate
	CRLURL  string // e.g. http://127.0.0.1:PORT/crl/sign.crl
	OCSPURL string // e.g. http://127.0.0.1:PORT/ocsp/sign
}

// Method is how revocation is checked.
type Method int

// Methods.
const (
	CRL  Method = iota // download the root's CRL
	OCSP               // ask the root's OCSP responder
)

func (m Method) String() string { return [...]string{"CRL", "OCSP"}[m] }

// Verifier checks certificates. Now is its clock (the scenario's virtual
// time, or time.Now); Client defaults to an http.Client with a 10 s timeout.
type Verifier struct {
	Roots  []Root
	Now    func() time.Time
	Client *http.Client
}

// maxBody bounds CRL and OCSP downloads.
const maxBody = 16 << 20

// Errors of revocation checking: the verifier cannot conclude.
var (
	ErrStaleCRL     = errors.New("CRL is not current")
	ErrBadSignature = errors.New("revocation data not signed by the root")
	ErrNoEndpoint   = errors.New("no revocation endpoint configured")
)

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

func (v *Verifier) client() *http.Client {
	if v.Client == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	return v.Client
}

// Verify checks a DER certificate: chain to a root, validity at Now, then
// revocation by m. Expiry is reported before revocation, as a relying party
// rejects an expired certificate without asking.
func (v *Verifier) Verify(ctx context.Context, der []byte, m Method) (Verdict, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("verifying certificate: %w", err)
	}
	root := v.issuer(cert)
	if root == nil {
		return UnknownIssuer{Issuer: cert.Issuer.String()}, nil
	}
	now := v.now()
	switch {
	case now.Before(cert.NotBefore):
		return NotYetValid{NotBefore: cert.NotBefore}, nil
	case now.After(cert.NotAfter):
		return Expired{NotAfter: cert.NotAfter}, nil
	case now.Before(root.Cert.NotBefore) || now.After(root.Cert.NotAfter):
		return UnknownIssuer{Issuer: cert.Issuer.String() + " (root outside its validity)"}, nil
	}
	switch m {
	case CRL:
		return v.checkCRL(ctx, cert, root, now)
	case OCSP:
		return v.checkOCSP(ctx, cert, root, now)
	}
	return nil, fmt.Errorf("verifying certificate: unknown method %d", int(m))
}

func (v *Verifier) issuer(cert *x509.Certificate) *Root {
	for i := range v.Roots {
		r := &v.Roots[i]
		if r.Cert != nil && bytes.Equal(cert.RawIssuer, r.Cert.RawSubject) && cert.CheckSignatureFrom(r.Cert) == nil {
			return r
		}
	}
	return nil
}

func (v *Verifier) fetch(ctx context.Context, method, url, contentType string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %s", method, url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("%s %s: response larger than %d bytes", method, url, maxBody)
	}
	return b, nil
}

// FetchCRL downloads and checks the CRL of a root: signed by it and current
// at Now (thisUpdate ≤ now < nextUpdate).
func (v *Verifier) FetchCRL(ctx context.Context, root Root) (*x509.RevocationList, error) {
	if root.CRLURL == "" {
		return nil, fmt.Errorf("fetching CRL: %w", ErrNoEndpoint)
	}
	b, err := v.fetch(ctx, http.MethodGet, root.CRLURL, "", nil)
	if err != nil {
		return nil, fmt.Errorf("fetching CRL: %w", err)
	}
	return CheckCRL(b, root.Cert, v.now())
}

// CheckCRL parses a DER CRL and checks that issuer signed it and that it is
// current at now.
func CheckCRL(der []byte, issuer *x509.Certificate, now time.Time) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CRL: %w", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("checking CRL: %w: %v", ErrBadSignature, err)
	}
	if now.Before(crl.ThisUpdate) || (!crl.NextUpdate.IsZero() && !now.Before(crl.NextUpdate)) {
		return nil, fmt.Errorf("checking CRL: %w: thisUpdate %s, nextUpdate %s, now %s", ErrStaleCRL,
			crl.ThisUpdate.UTC().Format(time.RFC3339), crl.NextUpdate.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return crl, nil
}

func (v *Verifier) checkCRL(ctx context.Context, cert *x509.Certificate, root *Root, now time.Time) (Verdict, error) {
	crl, err := v.FetchCRL(ctx, *root)
	if err != nil {
		return nil, fmt.Errorf("checking revocation: %w", err)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 && !now.Before(e.RevocationTime) {
			return Revoked{Reason: Reason(e.ReasonCode), Time: e.RevocationTime}, nil
		}
	}
	return Valid{}, nil
}

func (v *Verifier) checkOCSP(ctx context.Context, cert *x509.Certificate, root *Root, now time.Time) (Verdict, error) {
	if root.OCSPURL == "" {
		return nil, fmt.Errorf("checking revocation: %w", ErrNoEndpoint)
	}
	req, err := ocsp.CreateRequest(cert, root.Cert, nil)
	if err != nil {
		return nil, fmt.Errorf("building OCSP request: %w", err)
	}
	b, err := v.fetch(ctx, http.MethodPost, root.OCSPURL, "application/ocsp-request", req)
	if err != nil {
		return nil, fmt.Errorf("asking OCSP responder: %w", err)
	}
	return CheckOCSP(b, cert, root.Cert, now)
}

// CheckOCSP parses a DER OCSP response for cert, checks that issuer signed
// it and that it is current at now, and returns the verdict it gives.
func CheckOCSP(b []byte, cert, issuer *x509.Certificate, now time.Time) (Verdict, error) {
	resp, err := ocsp.ParseResponseForCert(b, cert, issuer)
	if err != nil {
		return nil, fmt.Errorf("checking OCSP response: %w", err)
	}
	if now.Before(resp.ThisUpdate) || (!resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate)) {
		return nil, fmt.Errorf("checking OCSP response: not current: thisUpdate %s, nextUpdate %s",
			resp.ThisUpdate.UTC().Format(time.RFC3339), resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	switch resp.Status {
	case ocsp.Good:
		return Valid{}, nil
	case ocsp.Revoked:
		return Revoked{Reason: Reason(resp.RevocationReason), Time: resp.RevokedAt}, nil
	}
	return Unknown{}, nil
}
