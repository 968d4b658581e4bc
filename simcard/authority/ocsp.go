package authority

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPValidity is the span from an OCSP response's thisUpdate to its
// nextUpdate.
const OCSPValidity = time.Hour

// OCSP answers one DER OCSP request (RFC 6960) for a CA: good, revoked (with
// time and reason) or unknown for a serial number the CA never issued. The
// response is signed by the CA itself (RFC 6960 §4.2.2.2: the CA that issued
// the certificate may sign). thisUpdate and nextUpdate follow the authority's
// clock; producedAt is set by x/crypto/ocsp from the wall clock.
//
// A request naming another issuer gets the "unauthorized" error response, a
// malformed one "malformedRequest" (RFC 6960 §2.3).
func (a *Authority) OCSP(k Kind, request []byte) ([]byte, error) {
	ca := a.CA(k)
	if ca == nil || (k != Auth && k != Sign) {
		return nil, fmt.Errorf("answering OCSP request: %w: unknown kind %q", ErrBadRequest, k)
	}
	req, err := ocsp.ParseRequest(request)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	if !req.HashAlgorithm.Available() || req.SerialNumber == nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	nameHash, keyHash, err := issuerHashes(ca, req)
	if err != nil {
		return nil, fmt.Errorf("answering OCSP request: %w", err)
	}
	if !bytes.Equal(nameHash, req.IssuerNameHash) || !bytes.Equal(keyHash, req.IssuerKeyHash) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	now := a.now().Truncate(time.Second)
	tmpl := ocsp.Response{
		Status:       ocsp.Unknown,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(OCSPValidity),
		IssuerHash:   req.HashAlgorithm,
	}
	if req.SerialNumber.IsInt64() {
		if r, ok := a.Lookup(req.SerialNumber.Int64()); ok && r.Kind == k {
			tmpl.Status = ocsp.Good
			if r.Status == Revoked && !now.Before(r.RevokedAt.Truncate(time.Second)) {
				tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, r.RevokedAt, int(r.Reason)
			}
		}
	}
	resp, err := ocsp.CreateResponse(ca.Cert, ca.Cert, tmpl, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing OCSP response: %w", err)
	}
	return resp, nil
}

func issuerHashes(ca *CA, req *ocsp.Request) (name, key []byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, fmt.Errorf("decoding root public key: %w", err)
	}
	h := req.HashAlgorithm.New()
	h.Write(ca.Cert.RawSubject)
	name = h.Sum(nil)
	h.Reset()
	h.Write(spki.PublicKey.RightAlign())
	return name, h.Sum(nil), nil
}

// MaxOCSPRequest bounds a request body; a real request is about 100 bytes.
const MaxOCSPRequest = 16 << 10
