package authority_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/responder"
	"github.com/mynahil/mynahil/simcard/store"
)

func newAuthority(t testing.TB, now time.Time) (*authority.Authority, *clock.Virtual) {
	t.Helper()
	c := clock.NewVirtual(now)
	a, err := authority.New(c, keypool.Shared())
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

func issue(t testing.TB, a *authority.Authority, k authority.Kind, cardID string) *x509.Certificate {
	t.Helper()
	key, err := keypool.Shared().Key()
	if err != nil {
		t.Fatal(err)
	}
	now := a.Clock.Now()
	cert, err := a.Issue(authority.Request{Kind: k, PublicKey: &key.PublicKey, Holder: profile.Default().Holder,
		NotBefore: now, NotAfter: now.AddDate(5, 0, 0), Office: "131016", CardID: cardID})
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestRevocationReachesCRL(t *testing.T) {
	a, c := newAuthority(t, clock.Date(2026, time.April, 1))
	keep := issue(t, a, authority.Sign, "0001")
	gone := issue(t, a, authority.Sign, "0001")
	other := issue(t, a, authority.Auth, "0001")

	first, err := a.CRL(authority.Sign)
	if err != nil {
		t.Fatal(err)
	}
	crl0 := parseCRL(t, first, a.SignCA.Cert)
	if len(crl0.RevokedCertificateEntries) != 0 {
		t.Fatalf("fresh CRL lists %d entries", len(crl0.RevokedCertificateEntries))
	}

	c.Advance(90 * time.Minute)
	rec, err := a.Revoke(gone.SerialNumber.Int64(), authority.AffiliationChanged)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != authority.Revoked || !rec.RevokedAt.Equal(c.Now()) || rec.CardID != "0001" {
		t.Fatalf("record after revocation: %+v", rec)
	}
	der, err := a.CRL(authority.Sign)
	if err != nil {
		t.Fatal(err)
	}
	crl := parseCRL(t, der, a.SignCA.Cert)
	if crl.Number.Cmp(crl0.Number) <= 0 {
		t.Fatalf("CRL number %v after %v: want an increase", crl.Number, crl0.Number)
	}
	if !crl.ThisUpdate.Equal(c.Now()) || !crl.NextUpdate.Equal(c.Now().Add(authority.CRLValidity)) {
		t.Fatalf("CRL times %v–%v, clock %v", crl.ThisUpdate, crl.NextUpdate, c.Now())
	}
	if len(crl.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL lists %d entries, want 1", len(crl.RevokedCertificateEntries))
	}
	e := crl.RevokedCertificateEntries[0]
	if e.SerialNumber.Cmp(gone.SerialNumber) != 0 || e.ReasonCode != int(authority.AffiliationChanged) || !e.RevocationTime.Equal(c.Now()) {
		t.Fatalf("CRL entry %+v", e)
	}
	for _, s := range []*x509.Certificate{keep, other} {
		if r, _ := a.Lookup(s.SerialNumber.Int64()); r.Status != authority.Good {
			t.Fatalf("certificate %v status %s, want good", s.SerialNumber, r.Status)
		}
	}
	authCRL, err := a.CRL(authority.Auth)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(parseCRL(t, authCRL, a.AuthCA.Cert).RevokedCertificateEntries); n != 0 {
		t.Fatalf("auth CRL lists %d entries after a sign revocation", n)
	}

	// The same CRL is served until it goes stale, then a new number.
	again, _ := a.CRL(authority.Sign)
	if !bytes.Equal(again, der) {
		t.Fatal("CRL re-signed without a change")
	}
	c.Advance(authority.CRLValidity)
	stale, _ := a.CRL(authority.Sign)
	if n := parseCRL(t, stale, a.SignCA.Cert).Number; n.Cmp(crl.Number) <= 0 {
		t.Fatalf("CRL number %v after nextUpdate passed, want more than %v", n, crl.Number)
	}
}

func TestRevokeRefusals(t *testing.T) {
	a, _ := newAuthority(t, clock.Date(2026, time.April, 1))
	cert := issue(t, a, authority.Auth, "")
	s := cert.SerialNumber.Int64()
	for _, tt := range []struct {
		name   string
		serial int64
		reason authority.Reason
		want   error
	}{
		{"unknown serial", 999, authority.KeyCompromise, authority.ErrUnknownSerial},
		{"reason 7 is unused", s, authority.Reason(7), authority.ErrBadRequest},
		{"removeFromCRL is for delta CRLs", s, authority.RemoveFromCRL, authority.ErrBadRequest},
		{"first revocation", s, authority.KeyCompromise, nil},
		{"second revocation", s, authority.Superseded, authority.ErrAlreadyRevoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.Revoke(tt.serial, tt.reason)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Revoke: %v, want %v", err, tt.want)
			}
		})
	}
	if r, _ := a.Lookup(s); r.Reason != authority.KeyCompromise {
		t.Fatalf("reason %s after a refused second revocation, want keyCompromise", r.Reason)
	}
}

func TestRecordState(t *testing.T) {
	nb := clock.Date(2026, time.April, 1)
	na := clock.Date(2031, time.January, 2)
	rev := clock.Date(2028, time.June, 1)
	for _, tt := range []struct {
		name string
		r    authority.Record
		at   time.Time
		want string
	}{
		{"before", authority.Record{Status: authority.Good, NotBefore: nb, NotAfter: na}, nb.Add(-time.Second), "not-yet-valid"},
		{"first second", authority.Record{Status: authority.Good, NotBefore: nb, NotAfter: na}, nb, "valid"},
		{"last second", authority.Record{Status: authority.Good, NotBefore: nb, NotAfter: na}, na, "valid"},
		{"after", authority.Record{Status: authority.Good, NotBefore: nb, NotAfter: na}, na.Add(time.Second), "expired"},
		{"before revocation", authority.Record{Status: authority.Revoked, RevokedAt: rev, NotBefore: nb, NotAfter: na}, rev.Add(-time.Second), "valid"},
		{"at revocation", authority.Record{Status: authority.Revoked, RevokedAt: rev, NotBefore: nb, NotAfter: na}, rev, "revoked"},
		{"revoked then expired", authority.Record{Status: authority.Revoked, RevokedAt: rev, NotBefore: nb, NotAfter: na}, na.AddDate(1, 0, 0), "revoked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.State(tt.at); got != tt.want {
				t.Fatalf("State = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestOCSPOverHTTP(t *testing.T) {
	a, c := newAuthority(t, clock.Date(2026, time.April, 1))
	good := issue(t, a, authority.Auth, "0001")
	bad := issue(t, a, authority.Auth, "0001")
	signCert := issue(t, a, authority.Sign, "0001")
	c.Advance(time.Hour)
	if _, err := a.Revoke(bad.SerialNumber.Int64(), authority.KeyCompromise); err != nil {
		t.Fatal(err)
	}
	srv, err := responder.Serve(a, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server at %s, want loopback", srv.URL)
	}

	ask := func(t *testing.T, url string, cert, issuer *x509.Certificate) []byte {
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(url, "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("HTTP %s, %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		return b
	}
	t.Run("good", func(t *testing.T) {
		r, err := ocsp.ParseResponseForCert(ask(t, srv.OCSPURL(authority.Auth), good, a.AuthCA.Cert), good, a.AuthCA.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Good || !r.ThisUpdate.Equal(c.Now()) {
			t.Fatalf("status %d thisUpdate %v", r.Status, r.ThisUpdate)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		r, err := ocsp.ParseResponseForCert(ask(t, srv.OCSPURL(authority.Auth), bad, a.AuthCA.Cert), bad, a.AuthCA.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || !r.RevokedAt.Equal(c.Now()) {
			t.Fatalf("status %d reason %d at %v", r.Status, r.RevocationReason, r.RevokedAt)
		}
	})
	t.Run("GET with the request in the path", func(t *testing.T) {
		req, err := ocsp.CreateRequest(bad, a.AuthCA.Cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.OCSPURL(authority.Auth) + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r, err := ocsp.ParseResponseForCert(b, bad, a.AuthCA.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Revoked {
			t.Fatalf("status %d, want revoked", r.Status)
		}
	})
	t.Run("other CA's responder", func(t *testing.T) {
		b := ask(t, srv.OCSPURL(authority.Sign), good, a.AuthCA.Cert)
		if !bytes.Equal(b, ocsp.UnauthorizedErrorResponse) {
			t.Fatalf("response % X, want unauthorized", b)
		}
	})
	t.Run("serial of the other kind", func(t *testing.T) {
		// A signing serial asked of the auth responder with the auth issuer's hashes.
		forged := *signCert
		forged.RawIssuer = a.AuthCA.Cert.RawSubject
		r, err := ocsp.ParseResponse(ask(t, srv.OCSPURL(authority.Auth), &forged, a.AuthCA.Cert), a.AuthCA.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocsp.Unknown {
			t.Fatalf("status %d, want unknown", r.Status)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		resp, err := http.Post(srv.OCSPURL(authority.Auth), "application/ocsp-request", strings.NewReader("not DER"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !bytes.Equal(b, ocsp.MalformedRequestErrorResponse) {
			t.Fatalf("response % X, want malformedRequest", b)
		}
	})
	t.Run("CRL download", func(t *testing.T) {
		resp, err := http.Get(srv.CRLURL(authority.Auth))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		crl := parseCRL(t, b, a.AuthCA.Cert)
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(bad.SerialNumber) != 0 {
			t.Fatalf("CRL entries %+v", crl.RevokedCertificateEntries)
		}
	})
	t.Run("unknown path", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/crl/other.crl")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("HTTP %s, want 404", resp.Status)
		}
	})
}

func TestPersistAndLoad(t *testing.T) {
	a, c := newAuthority(t, clock.Date(2026, time.April, 1))
	path := filepath.Join(t.TempDir(), "authority.json")
	if err := a.Persist(store.File{Path: path}.Save); err != nil {
		t.Fatal(err)
	}
	cert := issue(t, a, authority.Sign, "0007")
	if _, err := a.Revoke(cert.SerialNumber.Int64(), authority.Superseded); err != nil {
		t.Fatal(err)
	}
	num := a.CRLNumber(authority.Sign)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600 (it holds root keys)", info.Mode().Perm())
	}

	data, err := store.File{Path: path}.Load()
	if err != nil {
		t.Fatal(err)
	}
	b, err := authority.Load(data, c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.SignCA.Cert.Raw, a.SignCA.Cert.Raw) || !b.SignCA.Key.Equal(a.SignCA.Key) {
		t.Fatal("root not restored")
	}
	r, ok := b.Lookup(cert.SerialNumber.Int64())
	if !ok || r.Status != authority.Revoked || r.Reason != authority.Superseded || r.CardID != "0007" {
		t.Fatalf("record after reload: %+v", r)
	}
	next := issue(t, b, authority.Auth, "")
	if next.SerialNumber.Int64() <= cert.SerialNumber.Int64() {
		t.Fatalf("serial %v after reload repeats or goes back (last %v)", next.SerialNumber, cert.SerialNumber)
	}
	der, err := b.CRL(authority.Sign)
	if err != nil {
		t.Fatal(err)
	}
	if n := parseCRL(t, der, b.SignCA.Cert).Number.Int64(); n <= num {
		t.Fatalf("CRL number %d after reload, want more than %d", n, num)
	}

	for _, bad := range []string{``, `{}`, `{"version":1}`, `{"version":2}`, "\x00"} {
		if _, err := authority.Load([]byte(bad), c); err == nil {
			t.Errorf("Load(%q) succeeded", bad)
		}
	}
}

func parseCRL(t testing.TB, der []byte, ca *x509.Certificate) *x509.RevocationList {
	t.Helper()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}

// TestOpenSSLInterop checks the endpoints with the real openssl binary, the
// way the README tells a relying party to.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	// openssl judges OCSP and CRL times by the wall clock.
	a, _ := newAuthority(t, time.Now())
	good := issue(t, a, authority.Sign, "0001")
	bad := issue(t, a, authority.Sign, "0001")
	if _, err := a.Revoke(bad.SerialNumber.Int64(), authority.AffiliationChanged); err != nil {
		t.Fatal(err)
	}
	srv, err := responder.Serve(a, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })

	dir := t.TempDir()
	writePEM := func(name string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := writePEM("sign-ca.pem", a.SignCA.Cert.Raw)
	run := func(args ...string) string {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	for _, tt := range []struct {
		cert *x509.Certificate
		want string
	}{
		{good, ": good"},
		{bad, ": revoked"},
	} {
		p := writePEM("cert.pem", tt.cert.Raw)
		out := run("ocsp", "-issuer", ca, "-cert", p, "-url", srv.OCSPURL(authority.Sign), "-CAfile", ca, "-no_nonce")
		if !strings.Contains(out, tt.want) || !strings.Contains(out, "Response verify OK") {
			t.Fatalf("openssl ocsp for serial %v: want %q and a verified response, got\n%s", tt.cert.SerialNumber, tt.want, out)
		}
		if tt.want == ": revoked" && !strings.Contains(out, "Reason: affiliationChanged") {
			t.Fatalf("openssl ocsp does not show the reason:\n%s", out)
		}
	}

	resp, err := http.Get(srv.CRLURL(authority.Sign))
	if err != nil {
		t.Fatal(err)
	}
	crl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crlPath := filepath.Join(dir, "sign.crl")
	if err := os.WriteFile(crlPath, crl, 0o600); err != nil {
		t.Fatal(err)
	}
	out := run("crl", "-inform", "DER", "-in", crlPath, "-CAfile", ca, "-noout", "-text")
	serial := strings.ToUpper(bad.SerialNumber.Text(16))
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	if !strings.Contains(out, "verify OK") || !strings.Contains(out, "Serial Number: "+serial) || !strings.Contains(out, "Affiliation Changed") {
		t.Fatalf("openssl crl output lacks the verified entry for %s:\n%s", serial, out)
	}

	// A full chain check with CRL, as `openssl verify -crl_check` does.
	p := writePEM("bad.pem", bad.Raw)
	crlPEM := filepath.Join(dir, "sign-crl.pem")
	if err := os.WriteFile(crlPEM, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "verify", "-crl_check", "-CAfile", ca, "-CRLfile", crlPEM, p)
	vout, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(vout), "certificate revoked") {
		t.Fatalf("openssl verify -crl_check on a revoked certificate: err %v\n%s", err, vout)
	}
}

// FuzzOCSP: whatever arrives as a request, the responder answers with an
// OCSP response (an error response at worst) and never fails or panics.
func FuzzOCSP(f *testing.F) {
	a, _ := newAuthority(f, clock.Date(2026, time.April, 1))
	cert := issue(f, a, authority.Auth, "")
	req, err := ocsp.CreateRequest(cert, a.AuthCA.Cert, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(req)
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, err := a.OCSP(authority.Auth, b)
		if err != nil {
			t.Fatalf("OCSP: %v", err)
		}
		if _, err := ocsp.ParseResponse(resp, nil); err != nil {
			var re ocsp.ResponseError
			if !errors.As(err, &re) {
				// A signed response for some serial: parse without checking the signature issuer.
				if _, err := ocsp.ParseResponse(resp, a.AuthCA.Cert); err != nil {
					t.Fatalf("response does not parse: %v", err)
				}
			}
		}
	})
}

// TestIssueStaysInsideTheRoot: a certificate is signed only when its root
// is valid over the whole of its validity (strict validators reject a
// chain whose root starts after its leaf); the roots reach
// authority.RootYearsBack years back and RootYearsAhead ahead.
func TestIssueStaysInsideTheRoot(t *testing.T) {
	now := time.Date(2026, time.June, 15, 10, 0, 0, 0, clock.JST)
	a, _ := newAuthority(t, now)
	root := a.CA(authority.Auth).Cert
	if !root.NotBefore.Equal(now.AddDate(-authority.RootYearsBack, 0, 0)) || !root.NotAfter.Equal(now.AddDate(authority.RootYearsAhead, 0, 0)) {
		t.Errorf("root valid %v to %v", root.NotBefore, root.NotAfter)
	}
	key, err := keypool.Shared().Key()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from, to time.Time
		ok       bool
	}{
		{now.AddDate(-10, 0, 0), now.AddDate(-5, 0, 0), true},
		{root.NotBefore, root.NotAfter, true},
		{root.NotBefore.Add(-time.Second), now, false},
		{now, root.NotAfter.Add(time.Second), false},
	} {
		_, err := a.Issue(authority.Request{Kind: authority.Auth, PublicKey: &key.PublicKey, NotBefore: tc.from, NotAfter: tc.to, Office: "131016"})
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, authority.ErrBadRequest)) {
			t.Errorf("a certificate from %v to %v: %v, want accepted %v", tc.from, tc.to, err, tc.ok)
		}
	}
}
