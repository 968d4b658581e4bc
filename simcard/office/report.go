package office

import (
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/profile"
)

// CertificateReport is what one certificate is at the report's time.
type CertificateReport struct {
	Kind   authority.Kind   `json:"kind"`
	Device authority.Device `json:"device"`
	Serial int64            `json:"serial,omitempty"` // 0: none issued
	// State is "none", "valid", "not-yet-valid", "expired" or "revoked".
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	OnChip    bool      `json:"on_chip"` // the chip holds it (card certificates)
	DER       []byte    `json:"der,omitempty"`
}

// Report answers docs/lifecycle-rules.md §6 for one card at the office's now:
// which certificates it holds and what each is, and the tries left of each
// JPKI PIN.
type Report struct {
	ID            string              `json:"id"`
	Status        Status              `json:"status"`
	Holder        profile.Facts       `json:"holder"`
	IssueDate     time.Time           `json:"issue_date"`
	CardExpiry    time.Time           `json:"card_expiry"`
	At            time.Time           `json:"at"`
	Certificates  []CertificateReport `json:"certificates"` // card auth, card sign, smartphone auth, smartphone sign
	AuthTriesLeft int                 `json:"auth_tries_left"`
	SignTriesLeft int                 `json:"sign_tries_left"`
	History       []Event             `json:"history"`
}

// Certificate returns the report of one certificate.
func (r Report) Certificate(k authority.Kind, dev authority.Device) CertificateReport {
	for _, c := range r.Certificates {
		if c.Kind == k && c.Device == dev {
			return c
		}
	}
	return CertificateReport{Kind: k, Device: dev, State: "none"}
}

// Report describes a card now.
func (o *Office) Report(id string) (Report, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, err := o.card(id)
	if err != nil {
		return Report{}, err
	}
	now := o.clock.Now()
	r := c.rec
	out := Report{ID: c.ID, Status: r.Status, Holder: r.Profile.Holder, IssueDate: r.Profile.IssueDate.Time,
		CardExpiry: r.Expiry, At: now, History: append([]Event(nil), r.History...)}
	var onChip [2]bool
	c.Chip.Inspect(func(st *card.State) {
		df := st.DF(jpki.AID)
		if df == nil {
			return
		}
		onChip = [2]bool{df.File(jpki.EFAuthCert) != nil, df.File(jpki.EFSignCert) != nil}
		if f := df.File(jpki.EFAuthPIN); f != nil && f.PIN != nil {
			out.AuthTriesLeft = f.PIN.Left
		}
		if f := df.File(jpki.EFSignPIN); f != nil && f.PIN != nil {
			out.SignTriesLeft = f.PIN.Left
		}
	})
	for _, dev := range []authority.Device{authority.OnCard, authority.Smartphone} {
		for i, k := range []authority.Kind{authority.Auth, authority.Sign} {
			cr := CertificateReport{Kind: k, Device: dev, State: "none", OnChip: dev == authority.OnCard && onChip[i]}
			if rec, ok := o.current(r, k, dev); ok {
				cr.Serial, cr.State, cr.NotBefore, cr.NotAfter, cr.DER = rec.Serial, rec.State(now), rec.NotBefore, rec.NotAfter, rec.DER
				if rec.Status == authority.Revoked {
					cr.Reason, cr.RevokedAt = rec.Reason.String(), rec.RevokedAt
				}
			}
			out.Certificates = append(out.Certificates, cr)
		}
	}
	return out, nil
}

// Records returns every certificate the authority issued for a card, old
// ones included, by serial number.
func (o *Office) Records(id string) []authority.Record {
	return o.issuer.Authority.Records(func(r authority.Record) bool { return r.CardID == id })
}
