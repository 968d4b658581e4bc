package relyingparty_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/mynahil/mynahil/harness/relyingparty"
)

// A small independent CA: the verifier is tested against crypto/x509 and
// x/crypto/ocsp directly, never against the simulator's authority.
type testCA struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey

	mu      sync.Mutex
	revoked map[int64]relyingparty.Revoked
	crlAt   time.Time // thisUpdate of served CRLs
	crlKey  *rsa.PrivateKey
	status  int // HTTP status to answer; 0 = 200
}

var keyOnce = sync.OnceValues(func() ([]*rsa.PrivateKey, error) {
	var keys []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
})

func keys(t testing.TB) []*rsa.PrivateKey {
	k, err := keyOnce()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, time.April, 1, 1, 0, 0, 0, time.UTC)

func newCA(t testing.TB, key *rsa.PrivateKey, cn string) *testCA {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, revoked: map[int64]relyingparty.Revoked{}, crlAt: t0, crlKey: key}
}

func (ca *testCA) leaf(t testing.TB, serial int64, nb, na time.Time) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &keys(t)[2].PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (ca *testCA) serve(t *testing.T) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /crl", func(w http.ResponseWriter, _ *http.Request) {
		ca.mu.Lock()
		defer ca.mu.Unlock()
		if ca.status != 0 {
			w.WriteHeader(ca.status)
			return
		}
		tmpl := &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: ca.crlAt, NextUpdate: ca.crlAt.Add(24 * time.Hour)}
		for s, r := range ca.revoked {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
				x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: r.Time, ReasonCode: int(r.Reason)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.crlKey)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(der)
	})
	mux.HandleFunc("POST /ocsp", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := ocsp.ParseRequest(body)
		if err != nil {
			_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
			return
		}
		ca.mu.Lock()
		defer ca.mu.Unlock()
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: req.SerialNumber, ThisUpdate: ca.crlAt, NextUpdate: ca.crlAt.Add(time.Hour)}
		if rv, ok := ca.revoked[req.SerialNumber.Int64()]; ok {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, rv.Time, int(rv.Reason)
		} else if req.SerialNumber.Int64() >= 1000 {
			tmpl.Status = ocsp.Unknown
		}
		resp, err := ocsp.CreateResponse(ca.cert, ca.cert, tmpl, ca.crlKey)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(resp)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestVerdicts(t *testing.T) {
	ca := newCA(t, keys(t)[0], "root")
	stranger := newCA(t, keys(t)[1], "stranger")
	url := ca.serve(t)
	revokedAt := t0.Add(-time.Hour)
	ca.revoked[3] = relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: revokedAt}
	ca.revoked[4] = relyingparty.Revoked{Reason: relyingparty.Superseded, Time: revokedAt}

	good := ca.leaf(t, 2, t0.AddDate(0, -1, 0), t0.AddDate(5, 0, 0))
	revoked := ca.leaf(t, 3, t0.AddDate(0, -1, 0), t0.AddDate(5, 0, 0))
	revokedExpired := ca.leaf(t, 4, t0.AddDate(-5, 0, 0), t0.AddDate(0, 0, -1))
	expired := ca.leaf(t, 5, t0.AddDate(-5, 0, 0), t0.Add(-time.Second))
	future := ca.leaf(t, 6, t0.Add(time.Second), t0.AddDate(5, 0, 0))
	unknown := ca.leaf(t, 1000, t0.AddDate(0, -1, 0), t0.AddDate(5, 0, 0))
	foreign := stranger.leaf(t, 2, t0.AddDate(0, -1, 0), t0.AddDate(5, 0, 0))

	v := &relyingparty.Verifier{
		Roots: []relyingparty.Root{{Cert: ca.cert, CRLURL: url + "/crl", OCSPURL: url + "/ocsp"}},
		Now:   func() time.Time { return t0 },
	}
	for _, tt := range []struct {
		name       string
		der        []byte
		crl, ocspV relyingparty.Verdict
	}{
		{"valid", good, relyingparty.Valid{}, relyingparty.Valid{}},
		{"revoked", revoked, relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: revokedAt},
			relyingparty.Revoked{Reason: relyingparty.AffiliationChanged, Time: revokedAt}},
		{"revoked, then expired", revokedExpired, relyingparty.Expired{NotAfter: t0.AddDate(0, 0, -1)}, relyingparty.Expired{NotAfter: t0.AddDate(0, 0, -1)}},
		{"expired a second ago", expired, relyingparty.Expired{NotAfter: t0.Add(-time.Second)}, relyingparty.Expired{NotAfter: t0.Add(-time.Second)}},
		{"valid from the next second", future, relyingparty.NotYetValid{NotBefore: t0.Add(time.Second)}, relyingparty.NotYetValid{NotBefore: t0.Add(time.Second)}},
		{"serial the responder never issued", unknown, relyingparty.Valid{}, relyingparty.Unknown{}},
		{"another root", foreign, relyingparty.UnknownIssuer{Issuer: "CN=stranger"}, relyingparty.UnknownIssuer{Issuer: "CN=stranger"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []struct {
				method relyingparty.Method
				want   relyingparty.Verdict
			}{{relyingparty.CRL, tt.crl}, {relyingparty.OCSP, tt.ocspV}} {
				got, err := v.Verify(context.Background(), tt.der, m.method)
				if err != nil {
					t.Fatalf("%s: %v", m.method, err)
				}
				if got != m.want {
					t.Errorf("%s: %s, want %s", m.method, got, m.want)
				}
			}
		})
	}
}

func TestCannotConclude(t *testing.T) {
	ca := newCA(t, keys(t)[0], "root")
	url := ca.serve(t)
	leaf := ca.leaf(t, 2, t0.AddDate(0, -1, 0), t0.AddDate(5, 0, 0))
	now := t0
	v := &relyingparty.Verifier{
		Roots: []relyingparty.Root{{Cert: ca.cert, CRLURL: url + "/crl", OCSPURL: url + "/ocsp"}},
		Now:   func() time.Time { return now },
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		setup  func()
		method relyingparty.Method
		want   error
	}{
		{"CRL past its nextUpdate", func() { now = t0.Add(25 * time.Hour) }, relyingparty.CRL, relyingparty.ErrStaleCRL},
		{"CRL from the future", func() { now = t0.Add(-time.Minute) }, relyingparty.CRL, relyingparty.ErrStaleCRL},
		{"CRL signed by another key", func() { ca.crlKey = keys(t)[1] }, relyingparty.CRL, relyingparty.ErrBadSignature},
		{"CRL server error", func() { ca.status = http.StatusInternalServerError }, relyingparty.CRL, nil},
		{"OCSP response signed by another key", func() { ca.crlKey = keys(t)[1] }, relyingparty.OCSP, nil},
		{"OCSP response stale", func() { now = t0.Add(2 * time.Hour) }, relyingparty.OCSP, nil},
		{"no OCSP endpoint", func() { v.Roots[0].OCSPURL = "" }, relyingparty.OCSP, relyingparty.ErrNoEndpoint},
		{"unknown method", func() {}, relyingparty.Method(9), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now, ca.crlKey, ca.status = t0, ca.key, 0
			v.Roots[0].OCSPURL = url + "/ocsp"
			tt.setup()
			got, err := v.Verify(ctx, leaf, tt.method)
			if err == nil {
				t.Fatalf("verdict %v, want an error", got)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := v.Verify(ctx, []byte("not a certificate"), relyingparty.CRL); err == nil {
		t.Fatal("garbage DER verified")
	}
}

func TestVerdictStrings(t *testing.T) {
	at := time.Date(2030, time.May, 5, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		v    relyingparty.Verdict
		want string
	}{
		{relyingparty.Valid{}, "valid"},
		{relyingparty.Expired{NotAfter: at}, "expired at 2030-05-05T03:00:00Z"},
		{relyingparty.NotYetValid{NotBefore: at}, "not valid before 2030-05-05T03:00:00Z"},
		{relyingparty.Revoked{Reason: relyingparty.KeyCompromise, Time: at}, "revoked (keyCompromise) at 2030-05-05T03:00:00Z"},
		{relyingparty.Revoked{Reason: relyingparty.Reason(7), Time: at}, "revoked (reason(7)) at 2030-05-05T03:00:00Z"},
		{relyingparty.UnknownIssuer{Issuer: "CN=x"}, "unknown issuer CN=x"},
		{relyingparty.Unknown{}, "unknown to the OCSP responder"},
	} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}
