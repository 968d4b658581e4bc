package authority

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Device says where a certificate's key lives.
type Device string

// Devices (docs/lifecycle-rules.md §4).
const (
	OnCard     Device = "card"
	Smartphone Device = "smartphone" // スマホ用電子証明書
)

// Reason is an RFC 5280 §5.3.1 CRLReason code, as written in CRL entries and
// OCSP responses.
type Reason int

// The reason codes (RFC 5280 §5.3.1; 7 is unused).
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

var reasonNames = map[Reason]string{
	Unspecified: "unspecified", KeyCompromise: "keyCompromise", CACompromise: "cACompromise",
	AffiliationChanged: "affiliationChanged", Superseded: "superseded",
	CessationOfOperation: "cessationOfOperation", CertificateHold: "certificateHold",
	RemoveFromCRL: "removeFromCRL", PrivilegeWithdrawn: "privilegeWithdrawn", AACompromise: "aACompromise",
}

// String returns the RFC 5280 name of the reason.
func (r Reason) String() string {
	if n, ok := reasonNames[r]; ok {
		return n
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Valid reports whether r is a code RFC 5280 defines.
func (r Reason) Valid() bool { _, ok := reasonNames[r]; return ok }

// CertStatus is a certificate's status in the database. Expiry is not a
// status: it follows from NotAfter and the time asked about.
type CertStatus string

// Statuses.
const (
	Good    CertStatus = "good"
	Revoked CertStatus = "revoked"
)

// Record is the database entry of one issued certificate.
type Record struct {
	Serial    int64      `json:"serial"`
	Kind      Kind       `json:"kind"`
	CardID    string     `json:"card_id,omitempty"`
	Device    Device     `json:"device,omitempty"`
	Status    CertStatus `json:"status"`
	Reason    Reason     `json:"reason,omitempty"`
	RevokedAt time.Time  `json:"revoked_at,omitzero"`
	IssuedAt  time.Time  `json:"issued_at"` // the authority's clock at signing
	NotBefore time.Time  `json:"not_before"`
	NotAfter  time.Time  `json:"not_after"`
	DER       []byte     `json:"der"`
}

// State is what a certificate is at t: "valid", "not-yet-valid", "expired"
// or "revoked". A certificate revoked after t is still valid at t.
func (r Record) State(t time.Time) string {
	switch {
	case r.Status == Revoked && !t.Before(r.RevokedAt):
		return "revoked"
	case t.Before(r.NotBefore):
		return "not-yet-valid"
	case t.After(r.NotAfter):
		return "expired"
	}
	return "valid"
}

// ValidAt reports whether the certificate is neither revoked nor outside its
// validity at t.
func (r Record) ValidAt(t time.Time) bool { return r.State(t) == "valid" }

// Certificate parses the stored DER.
func (r Record) Certificate() (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate %d: %w", r.Serial, err)
	}
	return c, nil
}

// Errors of the database.
var (
	ErrUnknownSerial  = errors.New("no certificate with this serial number")
	ErrAlreadyRevoked = errors.New("certificate already revoked")
)

// record adds a freshly signed certificate to the database.
func (a *Authority) record(r Request, cert *x509.Certificate) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.db == nil {
		a.db = map[int64]*Record{}
	}
	dev := r.Device
	if dev == "" {
		dev = OnCard
	}
	s := cert.SerialNumber.Int64()
	a.db[s] = &Record{Serial: s, Kind: r.Kind, CardID: r.CardID, Device: dev, Status: Good,
		IssuedAt: a.now(), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, DER: cert.Raw}
	return a.save()
}

func (a *Authority) now() time.Time {
	if a.Clock == nil {
		return time.Now()
	}
	return a.Clock.Now()
}

// Lookup returns the record of a serial number.
func (a *Authority) Lookup(serial int64) (Record, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.db[serial]
	if !ok {
		return Record{}, false
	}
	return *r, true
}

// Records returns every record matching keep (all when keep is nil), by
// serial number.
func (a *Authority) Records(keep func(Record) bool) []Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Record
	for _, r := range a.sortedRecords() {
		if keep == nil || keep(*r) {
			out = append(out, *r)
		}
	}
	return out
}

// Bind ties a certificate to a card of the office's registry.
func (a *Authority) Bind(serial int64, cardID string, dev Device) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.db[serial]
	if !ok {
		return fmt.Errorf("binding certificate %d: %w", serial, ErrUnknownSerial)
	}
	r.CardID, r.Device = cardID, dev
	return a.save()
}

// Revoke marks a certificate revoked now with an RFC 5280 reason and
// regenerates its CA's CRL, so the revocation list and the OCSP responder
// say so from this moment (docs/card.md §6, "Revocation").
func (a *Authority) Revoke(serial int64, reason Reason) (Record, error) {
	if !reason.Valid() || reason == RemoveFromCRL {
		return Record{}, fmt.Errorf("revoking certificate %d: %w: reason %d", serial, ErrBadRequest, int(reason))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.db[serial]
	if !ok {
		return Record{}, fmt.Errorf("revoking certificate %d: %w", serial, ErrUnknownSerial)
	}
	if r.Status == Revoked {
		return *r, fmt.Errorf("revoking certificate %d: %w (%s)", serial, ErrAlreadyRevoked, r.Reason)
	}
	r.Status, r.Reason, r.RevokedAt = Revoked, reason, a.now()
	if _, err := a.regenerateCRL(r.Kind); err != nil {
		return *r, fmt.Errorf("revoking certificate %d: %w", serial, err)
	}
	return *r, a.save()
}
