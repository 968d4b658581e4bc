// Package responder serves the test authority (package simcard/authority)
// over HTTP: its root certificates, CRLs and OCSP answers, for any relying
// party (docs/daemon.md). The authority decides what the answers say; this
// package only carries them, so the domain holds no server.
package responder

import (
	"context"
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

	"github.com/mynahil/mynahil/simcard/authority"
)

// Handler serves the authority over HTTP, for any relying party:
//
//	GET  /crl/auth.crl, /crl/sign.crl       CRL, DER (application/pkix-crl)
//	GET  /ca/auth.der, /ca/sign.der         root certificates, DER
//	POST /ocsp/auth, /ocsp/sign             OCSP (application/ocsp-request)
//	GET  /ocsp/auth/{base64}, /ocsp/sign/…  OCSP, RFC 6960 appendix A.1
func Handler(a *authority.Authority) http.Handler {
	mux := http.NewServeMux()
	for _, k := range []authority.Kind{authority.Auth, authority.Sign} {
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
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, authority.MaxOCSPRequest))
			if err != nil {
				writeOCSP(w, a, k, nil)
				return
			}
			writeOCSP(w, a, k, body)
		})
		mux.HandleFunc("GET /ocsp/"+string(k)+"/{req...}", func(w http.ResponseWriter, r *http.Request) {
			// The path segment is base64 of the DER request, URL-escaped;
			// PathValue has already unescaped it.
			raw := r.PathValue("req")
			if len(raw) > authority.MaxOCSPRequest {
				writeOCSP(w, a, k, nil)
				return
			}
			if u, err := url.PathUnescape(raw); err == nil {
				raw = u
			}
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
			if err != nil {
				writeOCSP(w, a, k, nil)
				return
			}
			writeOCSP(w, a, k, der)
		})
	}
	return mux
}

func writeOCSP(w http.ResponseWriter, a *authority.Authority, k authority.Kind, req []byte) {
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

// Serve starts a's CA, CRL and OCSP endpoints on addr ("" for DefaultAddr).
func Serve(a *authority.Authority, addr string) (*Server, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting revocation server: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: Handler(a), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second},
		ln:  ln,
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// CRLURL is where the CRL of a CA is served.
func (s *Server) CRLURL(k authority.Kind) string { return s.URL + "/crl/" + string(k) + ".crl" }

// OCSPURL is the OCSP responder of a CA.
func (s *Server) OCSPURL(k authority.Kind) string { return s.URL + "/ocsp/" + string(k) }

// CAURL is where the root certificate of a CA is served.
func (s *Server) CAURL(k authority.Kind) string { return s.URL + "/ca/" + string(k) + ".der" }

// Close stops the server, waiting up to five seconds for requests in flight.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stopping revocation server: %w", err)
	}
	return nil
}
