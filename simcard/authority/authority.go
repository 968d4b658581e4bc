// Package authority is the simulator's certificate issuer: one self-signed
// RSA-2048 root per certificate kind (user authentication and digital
// signature), following the structure of the J-LIS profile (docs/card.md §6)
// but named as a test authority (O=JPKI-TEST, an OU saying "mynahil
// simulator"), with test-hierarchy policies, so that no certificate it issues
// can pass as a real one.
//
// The authority also keeps a database of every certificate it issued
// (Record: serial, kind, card, device, status, revocation reason and time),
// revokes with RFC 5280 reason codes (Revoke), publishes a CRL per root
// (CRL, re-signed on every change and whenever the clock passes nextUpdate)
// and answers OCSP (RFC 6960), both over HTTP on loopback (Serve, Handler),
// so that any relying party — including the openssl binary — can check a
// card's certificates (docs/card.md §6, "Revocation"). Marshal, Load and
// Persist keep all of it across restarts.
package authority

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/rules"
)

// Kind is a certificate kind.
type Kind string

// The two card certificates (docs/lifecycle-rules.md §1).
const (
	Auth Kind = "auth" // 利用者証明用電子証明書
	Sign Kind = "sign" // 署名用電子証明書
)

// TestNotice is the userNotice of every end-entity certificate's policy: a
// relying party that shows policy text shows this.
const TestNotice = "TEST CERTIFICATE issued by the mynahil simulator's test authority for testing only; " +
	"not issued by J-LIS (Japan Agency for Local Authority Information Systems) and valid for no real identity or signature."

// crlPartition is the DN of the CRL partition an end-entity certificate
// names in its CRL distribution point: the root's DN with a partition OU and
// CN per issuing office [inf: the real end-entity profile is not public;
// the CAs' own CRL DP is a DirName, docs/card.md §6].
func crlPartition(k Kind, office string) []byte {
	return name(append(caAttrs(k),
		attr{oidOrgUnit, "CRL Distribution Points", true},
		attr{oidCommonName, "CRL partition " + office, true},
	)...)
}

// TestCPS is the CPS qualifier of the simulator's policies. The .invalid
// top-level domain (RFC 2606) can never resolve.
const TestCPS = "http://jpki-test.mynahil.invalid/cps.html"

// CA is one root.
type CA struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

// Authority issues certificates. It is safe for concurrent use.
type Authority struct {
	AuthCA, SignCA *CA
	Clock          clock.Clock

	mu     sync.Mutex
	serial int64
	db     map[int64]*Record
	crls   map[Kind]*crlState
	// persist, when set, stores the authority after every change (Persist).
	persist func([]byte) error
}

// caName is the root's DN: the real one's shape with a test organisation.
func caName(k Kind) []byte { return name(caAttrs(k)...) }

// caAttrs are the root's DN attributes, which a CRL partition's DN extends.
func caAttrs(k Kind) []attr {
	ou := "JPKI for user authentication"
	if k == Sign {
		ou = "JPKI for digital signature"
	}
	return []attr{
		{oidCountry, "JP", false},
		{oidOrganization, "JPKI-TEST", true},
		{oidOrgUnit, ou, true},
		{oidOrgUnit, "mynahil simulator test authority (not J-LIS)", true},
	}
}

// Validity of the roots around the clock's now at their creation. A state
// directory keeps its roots for its whole life, so they must cover every
// certificate they will sign (docs/card.md §6): a card issued years before
// the directory was created (a profile's issue date), and renewals decades
// of virtual time later. Issue refuses a certificate outside them, so that
// no chain has a leaf valid where its root is not, which strict validators
// reject.
const (
	RootYearsBack  = 20
	RootYearsAhead = 30
)

// New creates an authority with fresh roots valid from RootYearsBack before
// the clock's now to RootYearsAhead after it, keys drawn from keys.
func New(c clock.Clock, keys keypool.Source) (*Authority, error) {
	a := &Authority{Clock: c}
	for _, k := range []Kind{Auth, Sign} {
		ca, err := newCA(k, c.Now(), keys)
		if err != nil {
			return nil, fmt.Errorf("creating %s root: %w", k, err)
		}
		if k == Auth {
			a.AuthCA = ca
		} else {
			a.SignCA = ca
		}
	}
	return a, nil
}

func newCA(k Kind, now time.Time, keys keypool.Source) (*CA, error) {
	key, err := keys.Key()
	if err != nil {
		return nil, err
	}
	subject := caName(k)
	ski := subjectKeyID(&key.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		RawSubject:            subject,
		NotBefore:             now.AddDate(-RootYearsBack, 0, 0).Truncate(time.Second),
		NotAfter:              now.AddDate(RootYearsAhead, 0, 0).Truncate(time.Second),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski,
		SignatureAlgorithm:    x509.SHA256WithRSA,
		ExtraExtensions: []pkix.Extension{
			altNameExt(oidSubjectAltNam, dirName(jpkiServiceName)),
			crlDistributionPoint(subject),
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("signing root certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing root certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

func subjectKeyID(pub *rsa.PublicKey) []byte {
	h := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	return h[:]
}

// CA returns the root of a kind.
func (a *Authority) CA(k Kind) *CA {
	if k == Sign {
		return a.SignCA
	}
	return a.AuthCA
}

// Request asks for one end-entity certificate.
type Request struct {
	Kind      Kind
	PublicKey *rsa.PublicKey
	// Holder is required for a signing certificate, whose subjectAltName
	// carries the four facts; it is ignored for authentication certificates,
	// which carry no personal data.
	Holder    profile.Facts
	NotBefore time.Time
	NotAfter  time.Time
	// Office is the issuing office's local government code, part of the
	// signing certificate's CN.
	Office string
	// CardID and Device tie the certificate to a card of the office's
	// registry in the database; both may be empty (Bind sets them later).
	CardID string
	Device Device
}

// ErrBadRequest wraps every refusal of a malformed request.
var ErrBadRequest = errors.New("bad certificate request")

// Issue signs an end-entity certificate with the kind's root. Its serial
// number is unique within the authority.
func (a *Authority) Issue(r Request) (*x509.Certificate, error) {
	ca, err := a.checkRequest(r)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.serial++
	serial := a.serial
	a.mu.Unlock()

	// crypto/x509 writes the authorityKeyIdentifier from the root's SKI.
	tmpl := &x509.Certificate{
		SerialNumber:       big.NewInt(serial),
		NotBefore:          r.NotBefore,
		NotAfter:           r.NotAfter,
		SignatureAlgorithm: x509.SHA256WithRSA,
		SubjectKeyId:       subjectKeyID(r.PublicKey),
	}
	if err := profileFor(tmpl, r, serial); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, r.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing %s certificate: %w", r.Kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing %s certificate: %w", r.Kind, err)
	}
	if err := a.record(r, cert); err != nil {
		return nil, fmt.Errorf("recording %s certificate: %w", r.Kind, err)
	}
	return cert, nil
}

// checkRequest refuses a malformed request and returns the root that signs
// a good one.
func (a *Authority) checkRequest(r Request) (*CA, error) {
	if r.PublicKey == nil || r.PublicKey.N.BitLen() != keypool.Bits {
		return nil, fmt.Errorf("%w: want an RSA-%d public key", ErrBadRequest, keypool.Bits)
	}
	if !r.NotAfter.After(r.NotBefore) {
		return nil, fmt.Errorf("%w: validity ends before it starts", ErrBadRequest)
	}
	ca := a.CA(r.Kind)
	if ca == nil {
		return nil, fmt.Errorf("%w: unknown kind %q", ErrBadRequest, r.Kind)
	}
	if r.NotBefore.Before(ca.Cert.NotBefore) || r.NotAfter.After(ca.Cert.NotAfter) {
		return nil, fmt.Errorf("%w: validity %s to %s lies outside the %s root's %s to %s", ErrBadRequest,
			r.NotBefore.Format(time.RFC3339), r.NotAfter.Format(time.RFC3339), r.Kind,
			ca.Cert.NotBefore.Format(time.RFC3339), ca.Cert.NotAfter.Format(time.RFC3339))
	}
	return ca, nil
}

// profileFor fills in the certificate profile of the request's kind
// (docs/card.md, certificate profiles): subject, key usage, policy, names
// and CRL partition.
func profileFor(tmpl *x509.Certificate, r Request, serial int64) error {
	switch r.Kind {
	case Sign:
		if r.Holder.Name == "" || r.Holder.BirthDate.IsZero() {
			return fmt.Errorf("%w: a signing certificate needs the holder's facts", ErrBadRequest)
		}
		pref, city := splitAddress(r.Holder.Address)
		cn := fmt.Sprintf("%s%05d%s", r.NotBefore.In(clock.JST).Format("20060102150405"), serial%100000, r.Office)
		tmpl.RawSubject = name(attr{oidCountry, "JP", false}, attr{oidLocality, pref, true}, attr{oidLocality, city, true}, attr{oidCommonName, cn, false})
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		tmpl.ExtraExtensions = []pkix.Extension{
			certificatePolicy(OIDSignPolicy, TestCPS, TestNotice),
			altNameExt(oidIssuerAltName, dirName(jpkiServiceName)),
			altNameExt(oidSubjectAltNam, holderOtherNames(r.Holder)...),
			crlDistributionPoint(crlPartition(Sign, r.Office)),
		}
	case Auth:
		tmpl.RawSubject = name(attr{oidCountry, "JP", false}, attr{oidCommonName, opaqueID(serial), false})
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtraExtensions = []pkix.Extension{
			certificatePolicy(OIDAuthPolicy, TestCPS, TestNotice),
			altNameExt(oidIssuerAltName, dirName(jpkiServiceName)),
			crlDistributionPoint(crlPartition(Auth, r.Office)),
		}
	}
	return nil
}

// opaqueID is the auth certificate's CN: an identifier that says nothing about
// the holder (docs/card.md §6 shows 20 characters).
func opaqueID(serial int64) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("9999%06d%010d", serial%1000000, new(big.Int).SetBytes(b[:]).Int64()%10000000000)
}

// holderOtherNames encodes the four facts in the observed order .1, .4, .3,
// .5, .2, .6 (docs/card.md §6). Substitute-character maps are all zeros: the
// simulator never substitutes characters.
func holderOtherNames(h profile.Facts) []asn1.RawValue {
	n := h.Name
	if h.FormerSurname != "" {
		n = n + "（" + h.FormerSurname + "）"
	}
	oid := func(i int) asn1.ObjectIdentifier { return append(append(asn1.ObjectIdentifier{}, OIDJPKIAttr...), i) }
	return []asn1.RawValue{
		otherName(oid(1), n),
		otherName(oid(4), EraBirthDate(h.BirthDate.Time)),
		otherName(oid(3), h.Sex.SANCode()),
		otherName(oid(5), h.Address),
		otherName(oid(2), strings.Repeat("0", len([]rune(n)))),
		otherName(oid(6), strings.Repeat("0", len([]rune(h.Address)))),
	}
}

// EraBirthDate writes a birth date as EYYYYMMDD: the era (1 Meiji, 2 Taishō,
// 3 Shōwa, 4 Heisei, 5 Reiwa) then the Gregorian date (docs/card.md §6).
func EraBirthDate(t time.Time) string {
	t = t.In(clock.JST)
	era := 0
	for i, start := range []time.Time{
		clock.Date(1868, time.January, 25), clock.Date(1912, time.July, 30), clock.Date(1926, time.December, 25),
		clock.Date(1989, time.January, 8), clock.Date(2019, time.May, 1),
	} {
		if !t.Before(start) {
			era = i + 1
		}
	}
	return fmt.Sprintf("%d%s", era, t.Format("20060102"))
}

// splitAddress takes the prefecture and the city from a Japanese address for
// the signing certificate's two L attributes.
func splitAddress(addr string) (prefecture, city string) {
	if strings.HasPrefix(addr, "京都府") { // the only prefecture with 都 before its suffix
		return "京都府", cityOf(addr[len("京都府"):])
	}
	i := strings.IndexAny(addr, "都道府県")
	if i < 0 {
		return addr, addr
	}
	prefecture = addr[:i+len("都")]
	return prefecture, cityOf(addr[len(prefecture):])
}

func cityOf(rest string) string {
	if j := strings.IndexAny(rest, "市区町村"); j >= 0 {
		return rest[:j+len("市")]
	}
	return rest
}

// Validity returns the certificate validity for a holder at issuance: from
// now to the end of the 5th birthday after, never past the card's expiry.
func Validity(now time.Time, birth, cardExpiry time.Time) (notBefore, notAfter time.Time) {
	return now, rules.CertificateExpiry(birth, now, cardExpiry)
}
