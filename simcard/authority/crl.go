package authority

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"
)

// CRLValidity is the span from a CRL's thisUpdate to its nextUpdate.
const CRLValidity = 24 * time.Hour

type crlState struct {
	Number     int64
	DER        []byte
	ThisUpdate time.Time
	NextUpdate time.Time
}

// CRL returns the current certificate revocation list of a CA (RFC 5280 §5):
// every certificate the CA revoked, with its revocation time and reason
// code. It is regenerated, with the next CRL number, whenever a certificate
// is revoked and whenever the clock has passed its nextUpdate (or moved back
// before its thisUpdate), so a relying party at any virtual time gets a
// current list.
func (a *Authority) CRL(k Kind) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.CA(k) == nil || (k != Auth && k != Sign) {
		return nil, fmt.Errorf("getting CRL: %w: unknown kind %q", ErrBadRequest, k)
	}
	now := a.now()
	if st := a.crls[k]; st != nil && st.DER != nil && !now.Before(st.ThisUpdate) && now.Before(st.NextUpdate) {
		return st.DER, nil
	}
	der, err := a.regenerateCRL(k)
	if err != nil {
		return nil, err
	}
	return der, a.save()
}

// CRLNumber returns the number of the last CRL generated for a CA, 0 before
// the first.
func (a *Authority) CRLNumber(k Kind) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.crls[k]; st != nil {
		return st.Number
	}
	return 0
}

// regenerateCRL signs a new CRL; callers hold a.mu.
func (a *Authority) regenerateCRL(k Kind) ([]byte, error) {
	if a.crls == nil {
		a.crls = map[Kind]*crlState{}
	}
	st := a.crls[k]
	if st == nil {
		st = &crlState{}
		a.crls[k] = st
	}
	ca := a.CA(k)
	now := a.now().Truncate(time.Second)
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(st.Number + 1),
		ThisUpdate: now,
		NextUpdate: now.Add(CRLValidity),
	}
	for _, r := range a.sortedRecords() {
		// A revocation after now (the clock moved back) is not listed yet.
		if r.Kind == k && r.Status == Revoked && !now.Before(r.RevokedAt.Truncate(time.Second)) {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
				SerialNumber:   big.NewInt(r.Serial),
				RevocationTime: r.RevokedAt,
				ReasonCode:     int(r.Reason),
			})
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing %s CRL: %w", k, err)
	}
	st.Number++
	st.DER, st.ThisUpdate, st.NextUpdate = der, tmpl.ThisUpdate, tmpl.NextUpdate
	return der, nil
}
