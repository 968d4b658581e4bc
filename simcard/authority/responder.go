package authority

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
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

// maxOCSPRequest bounds a request body; a real request is about 100 bytes.
const maxOCSPRequest = 16 << 10

// Handler serves the authority over HTTP, for any relying party:
//
//	GET  /crl/auth.crl, /crl/sign.crl       CRL, DER (application/pkix-crl)
//	GET  /ca/auth.der, /ca/sign.der         root certificates, DER
//	POST /ocsp/auth, /ocsp/sign             OCSP (application/ocsp-request)
//	GET  /ocsp/auth/{base64}, /ocsp/sign/…  OCSP, RFC 6960 appendix A.1
func (a *Authority) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, k := range []Kind{Auth, Sign} {
		mux.HandleFunc("GET /crl/"+string(k)+".crl", func(w http.ResponseWriter, _ *http.Request) {
			der, err := a.CRL(k)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "application/pkix-crl")
			_, _ = w.Write(der)
		})
		mux.HandleFunc("GET /ca/"+string(k)+".der", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/pkix-cert")
			_, _ = w.Write(a.CA(k).Cert.Raw)
		})
		mux.HandleFunc("POST /ocsp/"+string(k), func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOCSPRequest))
			if err != nil {
				a.writeOCSP(w, k, nil)
				return
			}
			a.writeOCSP(w, k, body)
		})
		mux.HandleFunc("GET /ocsp/"+string(k)+"/{req...}", func(w http.ResponseWriter, r *http.Request) {
			// The path segment is base64 of the DER request, URL-escaped;
			// PathValue has already unescaped it.
			raw := r.PathValue("req")
			if len(raw) > maxOCSPRequest {
				a.writeOCSP(w, k, nil)
				return
			}
			if u, err := url.PathUnescape(raw); err == nil {
				raw = u
			}
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
			if err != nil {
				a.writeOCSP(w, k, nil)
				return
			}
			a.writeOCSP(w, k, der)
		})
	}
	return mux
}

func (a *Authority) writeOCSP(w http.ResponseWriter, k Kind, req []byte) {
	resp := ocsp.MalformedRequestErrorResponse
	if req != nil {
		var err error
		if resp, err = a.OCSP(k, req); err != nil {
			resp = ocsp.InternalErrorErrorResponse
		}
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(resp)
}

// Server is the authority's HTTP endpoint.
type Server struct {
	// URL is the base, e.g. http://127.0.0.1:41234.
	URL string
	srv *http.Server
	ln  net.Listener
}

// DefaultAddr is where Serve listens unless told otherwise: loopback, a free
// port.
const DefaultAddr = "127.0.0.1:0"

// Serve starts the CRL and OCSP endpoints on addr ("" for DefaultAddr).
func (a *Authority) Serve(addr string) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting revocation server: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		ln:  ln,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// CRLURL is where the CRL of a CA is served.
func (s *Server) CRLURL(k Kind) string { return s.URL + "/crl/" + string(k) + ".crl" }

// OCSPURL is the OCSP responder of a CA.
func (s *Server) OCSPURL(k Kind) string { return s.URL + "/ocsp/" + string(k) }

// CAURL is where the root certificate of a CA is served.
func (s *Server) CAURL(k Kind) string { return s.URL + "/ca/" + string(k) + ".der" }

// Close stops the server, waiting up to five seconds for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping revocation server: %w", err)
	}
	return nil
}
