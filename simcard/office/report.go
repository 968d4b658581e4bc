package office

import (
	"bytes"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/jpki"
)

// Report answers docs/lifecycle-rules.md §6 for one card at the office's now:
// which certificates it holds and what each is, whether the chip holds
// exactly that certificate, and the tries left of each JPKI PIN.
func (o *Office) Report(id string) (simapi.Report, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, err := o.card(id)
	if err != nil {
		return simapi.Report{}, err
	}
	now := o.clock.Now()
	r := c.rec
	h := r.Profile.Holder
	out := simapi.Report{ID: c.ID, Status: string(r.Status), IssueDate: r.Profile.IssueDate.Time, CardExpiry: r.Expiry, At: now,
		Holder: simapi.Facts{Name: h.Name, Address: h.Address, BirthDate: h.BirthDate.Format(time.DateOnly), Sex: string(h.Sex),
			FormerSurname: h.FormerSurname}}
	for _, e := range r.History {
		out.History = append(out.History, simapi.Event{At: e.At, What: e.What})
	}
	var onChip [2][]byte
	c.Chip.Inspect(func(st *card.State) {
		df := st.DF(jpki.AID)
		if df == nil {
			return
		}
		for i, ef := range []uint16{jpki.EFAuthCert, jpki.EFSignCert} {
			if f := df.File(ef); f != nil {
				onChip[i] = f.Data
			}
		}
		if f := df.File(jpki.EFAuthPIN); f != nil && f.PIN != nil {
			out.AuthTriesLeft = f.PIN.Left
		}
		if f := df.File(jpki.EFSignPIN); f != nil && f.PIN != nil {
			out.SignTriesLeft = f.PIN.Left
		}
	})
	for _, dev := range []authority.Device{authority.OnCard, authority.Smartphone} {
		for i, k := range []authority.Kind{authority.Auth, authority.Sign} {
			cr := simapi.CertificateReport{Kind: simapi.Kind(k), Device: simapi.Device(dev), State: "none"}
			if rec, ok := o.current(r, k, dev); ok {
				cr.Serial, cr.State, cr.NotBefore, cr.NotAfter, cr.DER = rec.Serial, rec.State(now), rec.NotBefore, rec.NotAfter, rec.DER
				cr.OnChip = dev == authority.OnCard && bytes.Equal(onChip[i], rec.DER)
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
